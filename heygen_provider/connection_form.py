"""
The ``heygen`` connection's form: its fields in Airflow's UI and the schema of its extras.

Kept free of Airflow imports: Airflow reads it through :func:`heygen_provider.get_provider_info` while it
discovers providers, and :mod:`heygen_provider.connection` validates connections against it, so a field
is defined once.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from heygen_provider.vocabulary import API_VERSIONS, DEFAULT_API_VERSION

DEFAULT_BASE_URL = "https://api.heygen.com"
DEFAULT_REQUEST_TIMEOUT = 30.0
DEFAULT_RETRY_ATTEMPTS = 5
#: HeyGen's create call answers in 3.9 s at p50 but 30.8 s at p99: a create gets far longer than a poll.
DEFAULT_CREATE_TIMEOUT = 60.0

AuthType = Literal["api_key", "bearer"]
AUTH_TYPES: tuple[AuthType, ...] = ("api_key", "bearer")

# Declarative form for Airflow 3.2+ (hyphenated keys, as in provider.yaml).
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["port", "login", "schema"],
    "relabeling": {"host": "Base URL", "password": "API key"},
    "placeholders": {
        "host": DEFAULT_BASE_URL,
        "password": "HeyGen API key (or an OAuth access token with auth_type 'bearer')",
        "extra": json.dumps({"api_version": DEFAULT_API_VERSION, "request_timeout": DEFAULT_REQUEST_TIMEOUT}),
    },
}

# In the order a user fills them in: which API first, then the timeouts and retries, then the auth type.
CONNECTION_EXTRA_FIELDS: dict[str, Any] = {
    "api_version": {
        "label": "API version",
        "description": (
            "'v3' (the default): HeyGen's current API, with Avatar IV and idempotent creates. 'legacy': "
            "/v2/video/generate and /v1/video_status.get, which HeyGen retired on 2026-10-31; only for "
            "gateways that still serve them."
        ),
        "schema": {"type": "string", "enum": list(API_VERSIONS), "default": DEFAULT_API_VERSION},
    },
    "create_timeout": {
        "label": "Create timeout (seconds)",
        "description": "Timeout of the paid create call, which HeyGen can take 30 s to answer.",
        "schema": {"type": ["number", "null"], "minimum": 1, "maximum": 600, "default": DEFAULT_CREATE_TIMEOUT},
    },
    "request_timeout": {
        "label": "Request timeout (seconds)",
        "description": "Timeout of each other HTTP request to HeyGen.",
        "schema": {
            "type": ["number", "null"],
            "minimum": 1,
            "maximum": 600,
            "default": DEFAULT_REQUEST_TIMEOUT,
        },
    },
    "retry_attempts": {
        "label": "Retry attempts",
        "description": (
            "Attempts per call on workers, counting the first. The triggerer asks once per poll and "
            "waits out transient faults itself, within the task's deadlines."
        ),
        "schema": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": 10,
            "default": DEFAULT_RETRY_ATTEMPTS,
        },
    },
    "auth_type": {
        "label": "Auth type",
        "description": "'api_key' sends X-Api-Key (HeyGen API keys); 'bearer' sends an OAuth access token.",
        "schema": {"type": "string", "enum": list(AUTH_TYPES), "default": "api_key"},
    },
}

#: Deprecated extras, read from a connection but not offered in the form; tolerated until the next major release.
DEPRECATED_EXTRA_FIELDS: dict[str, Any] = {
    "video_status_path": {
        "label": "Video status path",
        "description": (
            "Deprecated: set api_version instead. API path of the status call, overriding the "
            "API version's ('/v3/videos/{video_id}' on v3, '/v1/video_status.get' on legacy)."
        ),
        "schema": {"type": ["string", "null"], "pattern": "^/", "default": None},
    },
}

# Airflow 2 and some 3.x forms stored custom fields as ``extra__<conn_type>__<name>``.
LEGACY_EXTRA_PREFIX = "extra__heygen__"


def ui_field_behaviour_for_hook() -> dict[str, Any]:
    """Return :data:`UI_FIELD_BEHAVIOUR` in the underscored shape ``get_ui_field_behaviour()`` uses."""
    return {key.replace("-", "_"): value for key, value in UI_FIELD_BEHAVIOUR.items()}
