"""
The ``heygen`` Airflow connection, validated into the settings every request needs: base URL, headers,
timeouts, endpoint paths and retry policy, for the sync hook and the async path of the triggerer alike.

The form's fields and the extras' schema live in :mod:`heygen_provider.connection_form`.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from heygen_provider import __version__
from heygen_provider.api_versions import API_BY_VERSION, HeyGenApi
from heygen_provider.connection_form import (
    AUTH_TYPES,
    CONNECTION_EXTRA_FIELDS,
    DEFAULT_BASE_URL,
    DEFAULT_CREATE_TIMEOUT,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_RETRY_ATTEMPTS,
    DEPRECATED_EXTRA_FIELDS,
    LEGACY_EXTRA_PREFIX,
    UI_FIELD_BEHAVIOUR,
    AuthType,
    ui_field_behaviour_for_hook,
)
from heygen_provider.exceptions import HeyGenConnectionError
from heygen_provider.retry import RetryPolicy
from heygen_provider.vocabulary import API_VERSIONS, DEFAULT_CONN_ID, ApiVersion

USER_AGENT = f"airflow-provider-heygen/{__version__}"
#: Connecting should be quick; only an answer may legitimately take up to the request timeout.
MAX_CONNECT_TIMEOUT = 10.0
#: Every extra a connection may carry: the form's, and the deprecated ones (``DEPRECATED_EXTRA_FIELDS``).
KNOWN_EXTRA_FIELDS: dict[str, Any] = {**CONNECTION_EXTRA_FIELDS, **DEPRECATED_EXTRA_FIELDS}

__all__ = [
    "CONNECTION_EXTRA_FIELDS",
    "DEFAULT_BASE_URL",
    "DEFAULT_CONN_ID",
    "DEFAULT_REQUEST_TIMEOUT",
    "DEFAULT_RETRY_ATTEMPTS",
    "DEPRECATED_EXTRA_FIELDS",
    "KNOWN_EXTRA_FIELDS",
    "UI_FIELD_BEHAVIOUR",
    "HeyGenConnectionSettings",
    "ui_field_behaviour_for_hook",
]


@dataclass(frozen=True)
class HeyGenConnectionSettings:
    """
    Everything a request needs from the connection, validated.

    :param conn_id: the Airflow connection id, for messages.
    :param base_url: scheme and host (and port) of the API, without a trailing slash.
    :param api_key: the API key or OAuth access token; kept out of ``repr``.
    :param auth_type: ``api_key`` (``X-Api-Key`` header) or ``bearer`` (``Authorization: Bearer``).
    :param request_timeout: seconds allowed for each HTTP request.
    :param retry_attempts: attempts per call, counting the first.
    :param video_status_path: the status call's path, overriding the API's (deprecated).
    :param api_version: ``v3`` (default) or ``legacy``: see :mod:`heygen_provider.api_versions`.
    :param create_timeout: seconds allowed for the paid create call to answer.
    """

    conn_id: str
    base_url: str
    api_key: str = field(repr=False)
    auth_type: AuthType = "api_key"
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    retry_attempts: int = DEFAULT_RETRY_ATTEMPTS
    video_status_path: str | None = None
    api_version: ApiVersion = "v3"
    create_timeout: float = DEFAULT_CREATE_TIMEOUT

    @property
    def connect_timeout(self) -> float:
        """Seconds allowed to establish a connection: the request timeout, capped at 10 s."""
        return min(MAX_CONNECT_TIMEOUT, self.request_timeout)

    @property
    def auth_headers(self) -> dict[str, str]:
        """The authentication header for this connection's auth type."""
        if self.auth_type == "bearer":
            return {"Authorization": f"Bearer {self.api_key}"}
        return {"X-Api-Key": self.api_key}

    @property
    def session_headers(self) -> dict[str, str]:
        """The headers every request carries besides authentication (sent to media hosts too)."""
        return {"Accept": "application/json", "User-Agent": USER_AGENT}

    @property
    def api(self) -> HeyGenApi:
        """The HeyGen API: its paths (the status path from ``video_status_path`` when set) and translations."""
        return API_BY_VERSION[self.api_version].with_status_path(self.video_status_path)

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry policy of a call on a worker: ``retry_attempts`` attempts."""
        return RetryPolicy(attempts=self.retry_attempts)

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must be blanked out of any message: the key."""
        return (self.api_key,)

    def url(self, path: str) -> str:
        """Join the base URL and an API path such as ``/v2/video/generate``."""
        return f"{self.base_url}{path}"

    @classmethod
    def from_connection(
        cls, conn_id: str, *, host: str | None, password: str | None, port: int | None, extra: Any
    ) -> HeyGenConnectionSettings:
        """
        Validate a connection's fields.

        :param conn_id: connection id, named in every error.
        :param host: the base URL, or a bare host name (HTTPS is then assumed), or empty for the default.
        :param password: the API key.
        :param port: optional port when ``host`` is a bare host name.
        :param extra: the connection's extra, as the JSON string Airflow stores or an already parsed dict.
        :raises HeyGenConnectionError: naming the field and the rule, never the key.
        """
        if not password or not password.strip():
            raise HeyGenConnectionError(
                f"Connection {conn_id!r}: the API key is missing; put it in the connection's password field."
            )
        api_key = password.strip()
        if any(_is_control_character(char) for char in api_key):
            # Never echoed: the HTTP libraries' own errors for such a header value quote it whole.
            raise HeyGenConnectionError(
                f"Connection {conn_id!r}: the API key contains a line break or another control character; "
                "copy it again into the connection's password field."
            )
        options = _parse_extra(conn_id, extra)
        return cls(
            conn_id=conn_id,
            base_url=_normalise_base_url(conn_id, host, port),
            api_key=api_key,
            **options,
        )


def _is_control_character(char: str) -> bool:
    # C0 (CR, LF, NUL, tab, ...), DEL and C1: none can travel in an HTTP header value.
    return char < " " or "\x7f" <= char <= "\x9f"


def _normalise_base_url(conn_id: str, host: str | None, port: int | None) -> str:
    raw = (host or "").strip() or DEFAULT_BASE_URL
    if "://" not in raw:
        raw = f"https://{raw}"
    parts = urlsplit(raw)
    try:
        explicit_port = parts.port
    except ValueError:
        raise HeyGenConnectionError(f"Connection {conn_id!r}: host {raw!r} has an invalid port.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HeyGenConnectionError(
            f"Connection {conn_id!r}: host must be an https:// base URL such as {DEFAULT_BASE_URL!r}."
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        # The API key travels in a header: over plain HTTP anyone on the path could read it.
        raise HeyGenConnectionError(
            f"Connection {conn_id!r}: host {parts.hostname!r} uses http://, which would send the API key in "
            "clear text; use https:// (plain http:// is accepted only for loopback, such as the emulator)."
        )
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if port and explicit_port is None:
        netloc = f"{netloc}:{port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _parse_extra(conn_id: str, extra: Any) -> dict[str, Any]:
    # Parsed here rather than through Connection.extra_dejson, which can deadlock inside the
    # triggerer's event loop before Airflow 3.3.2 (apache/airflow#71890).
    if extra is None or extra == "":
        values: Any = {}
    elif isinstance(extra, str):
        try:
            values = json.loads(extra)
        except json.JSONDecodeError as error:
            raise HeyGenConnectionError(
                f"Connection {conn_id!r}: extra is not valid JSON ({error.msg} at position {error.pos})."
            ) from None
    else:
        values = extra
    if not isinstance(values, dict):
        raise HeyGenConnectionError(f"Connection {conn_id!r}: extra must be a JSON object.")

    options: dict[str, Any] = {}
    for raw_name, value in values.items():
        name = raw_name.removeprefix(LEGACY_EXTRA_PREFIX)
        if name not in KNOWN_EXTRA_FIELDS:
            known = ", ".join(sorted(KNOWN_EXTRA_FIELDS))
            raise HeyGenConnectionError(
                f"Connection {conn_id!r}: extra {raw_name!r} is not a known field (known: {known})."
            )
        if value is None or value == "":
            continue
        options[name] = _check_extra_value(conn_id, name, value)
    return options


def _check_extra_value(conn_id: str, name: str, value: Any) -> Any:
    schema = KNOWN_EXTRA_FIELDS[name]["schema"]
    prefix = f"Connection {conn_id!r}: extra {name!r}"
    if name == "video_status_path":
        if not isinstance(value, str) or not value.startswith("/"):
            raise HeyGenConnectionError(f"{prefix} must be an API path starting with '/' (got {value!r}).")
        return value
    if name in ("auth_type", "api_version"):
        allowed = AUTH_TYPES if name == "auth_type" else API_VERSIONS
        if value not in allowed:
            raise HeyGenConnectionError(f"{prefix} must be one of {', '.join(allowed)} (got {value!r}).")
        return value
    number: float
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(value) if name == "retry_attempts" else float(value)
        if name == "retry_attempts" and float(value) != number:
            raise ValueError
    except (TypeError, ValueError):
        kind = "a whole number" if name == "retry_attempts" else "a number"
        raise HeyGenConnectionError(f"{prefix} must be {kind} (got {value!r}).") from None
    if not schema["minimum"] <= number <= schema["maximum"]:
        raise HeyGenConnectionError(
            f"{prefix} must be between {schema['minimum']} and {schema['maximum']} (got {value!r})."
        )
    return number
