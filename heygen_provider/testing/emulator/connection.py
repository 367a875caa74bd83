"""The Airflow connection that points the provider's hook at an emulator.

Built by hand rather than with Airflow's ``Connection`` so that the command line starts fast and the
emulator does not depend on Airflow; the tests check Airflow parses every form back.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from heygen_provider.vocabulary import API_VERSIONS, DEFAULT_CONN_ID

CONN_TYPE = "heygen"
AUTH_TYPES = ("api_key", "bearer")


@dataclass(frozen=True)
class AirflowConnection:
    """An Airflow connection of type ``heygen``.

    :param conn_id: the connection id, ``heygen_default`` unless told otherwise.
    :param host: the base URL, scheme included (``http://`` is fine on loopback).
    :param password: the API key (or the OAuth token when ``extra`` says ``auth_type: bearer``).
    :param extra: the connection extras, e.g. ``request_timeout``, ``retry_attempts``, ``auth_type``.
    """

    conn_id: str
    host: str
    password: str
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Airflow's JSON form: ``{"conn_type": "heygen", "host": ..., "password": ..., "extra": {...}}``."""
        values: dict[str, Any] = {"conn_type": CONN_TYPE, "host": self.host, "password": self.password}
        if self.extra:
            values["extra"] = self.extra
        return values

    def to_json(self) -> str:
        """The JSON form as text, as Airflow reads it from an ``AIRFLOW_CONN_*`` variable."""
        return json.dumps(self.as_dict())

    def uri(self) -> str:
        """Airflow's URI form, e.g. ``heygen://http://:KEY@127.0.0.1%3A8000``.

        The host keeps its scheme the way Airflow's own ``Connection.get_uri`` writes it.
        """
        scheme, _, address = self.host.partition("://")
        uri = f"{CONN_TYPE}://{scheme}://:{quote(self.password, safe='')}@{quote(address, safe='')}"
        if self.extra:
            uri += "/?__extra__=" + quote(json.dumps(self.extra), safe="")
        return uri

    @property
    def env_var_name(self) -> str:
        """``AIRFLOW_CONN_`` and the upper-case connection id."""
        return "AIRFLOW_CONN_" + self.conn_id.upper()

    def env(self) -> dict[str, str]:
        """The environment variable that defines the connection, in JSON form."""
        return {self.env_var_name: self.to_json()}

    def export_line(self) -> str:
        """A shell line to paste, e.g. ``export AIRFLOW_CONN_HEYGEN_DEFAULT='{...}'``."""
        return f"export {self.env_var_name}={shlex.quote(self.to_json())}"


def airflow_connection(
    host: str,
    password: str,
    conn_id: str = DEFAULT_CONN_ID,
    *,
    auth_type: str = "api_key",
    api_version: str | None = None,
    extra: dict[str, Any] | None = None,
) -> AirflowConnection:
    """An Airflow ``heygen`` connection to ``host``.

    :param host: the base URL, scheme included.
    :param password: the API key, or the OAuth token when ``auth_type`` is ``bearer``.
    :param conn_id: the connection id.
    :param auth_type: ``api_key`` (sent as ``X-Api-Key``) or ``bearer`` (``Authorization: Bearer``,
        recorded in the extras as ``"auth_type": "bearer"``).
    :param api_version: ``"v3"`` or ``"legacy"``, put in the extras as ``api_version``; ``None``
        leaves it out, so that the provider's default applies.
    :param extra: further extras, e.g. ``{"request_timeout": 5, "retry_attempts": 2}``.
    """
    if auth_type not in AUTH_TYPES:
        raise ValueError("auth_type must be 'api_key' or 'bearer'")
    if api_version is not None and api_version not in API_VERSIONS:
        raise ValueError(f"api_version must be one of {', '.join(API_VERSIONS)} or None")
    extras = dict(extra or {})
    if auth_type == "bearer":
        extras["auth_type"] = "bearer"
    if api_version is not None:
        extras["api_version"] = api_version
    return AirflowConnection(conn_id=conn_id, host=host, password=password, extra=extras)
