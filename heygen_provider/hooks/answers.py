"""
The one parser of HeyGen's answers: the data of a success, the exception of an error, for the sync and the
async transport alike; and the redaction that keeps the API key out of every message it writes.

HeyGen answers errors in three shapes (see ``docs/troubleshooting``):

1. legacy v1: ``{"code": 400112, "message": "Unauthorized"}``
2. v2: ``{"data": null, "error": {"code": "invalid_parameter", "message": "..."}}`` or ``{"error": "text"}``
3. v3: ``{"error": {"code": "...", "message": "...", "param": "...", "doc_url": "..."}}``

and a proxy in front of it may answer with an HTML page. :func:`parse_response` reads all of them and
raises one of :mod:`heygen_provider.exceptions`.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from heygen_provider.exceptions import (
    HeyGenAPIError,
    HeyGenAuthenticationError,
    HeyGenBadRequestError,
    HeyGenIdempotencyConflictError,
    HeyGenInsufficientCreditError,
    HeyGenMalformedResponseError,
    HeyGenNotFoundError,
    HeyGenRateLimitError,
    HeyGenRequestInProgressError,
    HeyGenServerError,
)

# HeyGen's legacy success code in ``{"code": 100, "data": ..., "message": "Success"}``.
LEGACY_SUCCESS_CODE = 100
_BODY_SNIPPET_LENGTH = 200

_STATUS_CLASSES: dict[int, type[HeyGenAPIError]] = {
    400: HeyGenBadRequestError,
    401: HeyGenAuthenticationError,
    402: HeyGenInsufficientCreditError,
    403: HeyGenAuthenticationError,
    404: HeyGenNotFoundError,
    # Only a 409 whose code is REQUEST_IN_PROGRESS is waited out (error_class_for_status).
    409: HeyGenIdempotencyConflictError,
    # v3's payload_too_large: the same body is refused again, so an Airflow retry cannot mend it.
    413: HeyGenBadRequestError,
    422: HeyGenBadRequestError,
    424: HeyGenBadRequestError,
    429: HeyGenRateLimitError,
}


#: The one 409 code HeyGen documents: the first request with the same ``Idempotency-Key`` is still in flight.
REQUEST_IN_PROGRESS = "request_in_progress"


def error_class_for_status(status_code: int, code: str | int | None = None) -> type[HeyGenAPIError]:
    """
    The exception class for an HTTP error status and HeyGen's error code.

    :param status_code: the HTTP status.
    :param code: HeyGen's error code, if any: a 409 is "in progress" (waited out) only when it says
        ``request_in_progress``; any other 409 is a conflict that the same request meets again.
    """
    if status_code >= 500:
        return HeyGenServerError
    if status_code == 409 and isinstance(code, str) and code.strip().lower() == REQUEST_IN_PROGRESS:
        return HeyGenRequestInProgressError
    return _STATUS_CLASSES.get(status_code, HeyGenAPIError)


def parse_response(
    status_code: int,
    body: bytes,
    *,
    secrets: Iterable[str] = (),
    retry_after: float | None = None,
    envelope: bool = False,
) -> Any:
    """
    Return the ``data`` of a successful HeyGen answer, or raise the matching
    :class:`~heygen_provider.exceptions.HeyGenAPIError`.

    Accepts the success envelopes ``{"error": null, "data": ...}``, ``{"code": 100, "data": ...}`` and
    v3's ``{"data": ...}``. An error envelope inside an HTTP 200 raises as well.

    :param status_code: the HTTP status.
    :param body: the raw response body.
    :param secrets: strings to blank out of any message (the API key), in case a body echoes them.
    :param retry_after: seconds from a ``Retry-After`` header, kept on rate-limit errors.
    :param envelope: return the whole answer object, not its ``data``: a v3 listing's ``has_more`` and
        ``next_token`` sit beside ``data``.
    """
    payload = _load_json(body)
    if status_code < 400 and isinstance(payload, dict):
        code, message = _error_fields(payload)
        if code is None and message is None:
            if "data" in payload and not envelope:
                return payload["data"]
            return payload
    elif status_code < 400:
        # A 2xx that is not a JSON object is no HeyGen answer (a captive portal, a truncated body).
        malformed = HeyGenMalformedResponseError(
            _describe_non_json(body, secrets), status_code=status_code, retry_after=retry_after
        )
        malformed.web_page = body.lstrip()[:1] == b"<"
        raise malformed
    elif isinstance(payload, dict):
        code, message = _error_fields(payload)
    else:
        code, message = None, _describe_non_json(body, secrets)

    text = _redact(message or "no error message in the response body", secrets)
    error_class = error_class_for_status(status_code, code) if status_code >= 400 else HeyGenAPIError
    return_code = _redact(str(code), secrets) if isinstance(code, str) else code
    heygen_body = isinstance(payload, dict) and (code is not None or message is not None)
    param = _error_param(payload, secrets)
    raise error_class(
        text, status_code=status_code, code=return_code, retry_after=retry_after, heygen_body=heygen_body, param=param
    )


def _load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _error_fields(payload: dict[str, Any]) -> tuple[str | int | None, str | None]:
    """Return (code, message) of an error envelope, or (None, None) for a success envelope."""
    error = payload.get("error")
    if isinstance(error, dict):
        return error.get("code"), _as_text(error.get("message") or error.get("detail"))
    if isinstance(error, str) and error:
        return None, error
    code = payload.get("code")
    if code is not None and code != LEGACY_SUCCESS_CODE:
        return code, _as_text(payload.get("message") or payload.get("msg"))
    if "data" not in payload and ("message" in payload or "msg" in payload):
        return None, _as_text(payload.get("message") or payload.get("msg"))
    return None, None


def _error_param(payload: Any, secrets: Iterable[str]) -> str | None:
    """The field a v3 error names (``{"error": {"param": ...}}``), redacted and kept short."""
    error = payload.get("error") if isinstance(payload, dict) else None
    param = error.get("param") if isinstance(error, dict) else None
    return _redact(param[:100], secrets) if isinstance(param, str) and param.strip() else None


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def _describe_non_json(body: bytes, secrets: Iterable[str]) -> str:
    # Only a prefix is read, with linear scans: this runs inside the triggerer's event loop. Redacted
    # before any cut (the prefix is read a little longer, then cut), so a key that straddles a cut
    # cannot leak its first characters.
    secrets = list(secrets)
    margin = max((len(secret) for secret in secrets), default=0) * 3  # a secret's URL-encoded length
    text = _redact(body[: _DESCRIBED_PREFIX + margin].decode("utf-8", errors="replace"), secrets)
    text = text[:_DESCRIBED_PREFIX]
    text = " ".join(html.unescape(_title(text) or _strip_tags(text)).split())
    if not text:
        return "empty response body (not HeyGen's JSON)"
    if len(text) > _BODY_SNIPPET_LENGTH:
        text = text[:_BODY_SNIPPET_LENGTH] + "..."
    return f"response body is not HeyGen's JSON: {text!r}"


#: Bytes of a non-JSON body that are described; the rest is never read.
_DESCRIBED_PREFIX = 64 * 1024
_TITLE_OPEN = re.compile("<title", re.IGNORECASE)
_TITLE_CLOSE = re.compile("</title>", re.IGNORECASE)


def _title(text: str) -> str | None:
    """The text of the first ``<title ...>...</title>``, found in one pass."""
    start = _TITLE_OPEN.search(text)
    if start is None:
        return None
    opened = text.find(">", start.end())
    if opened == -1:
        return None
    closed = _TITLE_CLOSE.search(text, opened + 1)
    return text[opened + 1 : closed.start()] if closed else None


def _strip_tags(text: str) -> str:
    """Every ``<...>`` (at least one character inside) replaced by a space, in one pass."""
    parts: list[str] = []
    position = 0
    while (start := text.find("<", position)) != -1 and (end := text.find(">", start + 1)) != -1:
        if end == start + 1:  # "<>" is no tag
            parts.append(text[position : end + 1])
        else:
            parts.append(text[position:start])
            parts.append(" ")
        position = end + 1
    parts.append(text[position:])
    return "".join(parts)


def _redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = _echo_pattern(secret).sub("***", text)
    return text


@functools.lru_cache(maxsize=16)
def _echo_pattern(secret: str) -> re.Pattern[str]:
    """
    The secret as a server may echo it: verbatim or URL-encoded (a query string, a form body), the
    percent escapes in either case; longest form first.
    """
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret, safe=""), quote_plus(secret)}
    return re.compile("|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True)), re.IGNORECASE)


__all__ = ["LEGACY_SUCCESS_CODE", "REQUEST_IN_PROGRESS", "error_class_for_status", "parse_response"]
