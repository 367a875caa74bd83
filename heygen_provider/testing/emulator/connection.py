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

DEFAULT_CONN_ID = "heygen_default"
CONN_TYPE = "heygen"


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
