"""
Exceptions, and the one parser that turns any HeyGen error body into them.

HeyGen answers errors in three shapes (see ``docs/troubleshooting``):

1. legacy v1: ``{"code": 400112, "message": "Unauthorized"}``
2. v2: ``{"data": null, "error": {"code": "invalid_parameter", "message": "..."}}`` or ``{"error": "text"}``
3. v3: ``{"error": {"code": "...", "message": "...", "param": "...", "doc_url": "..."}}``

and a proxy in front of it may answer with an HTML page. :func:`parse_response` reads all of them, for
the sync and the async path alike.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from airflow.sdk.exceptions import AirflowException

from heygen_provider._compat import AirflowFailException

# HeyGen's legacy success code in ``{"code": 100, "data": ..., "message": "Success"}``.
LEGACY_SUCCESS_CODE = 100
_BODY_SNIPPET_LENGTH = 200


class HeyGenError(AirflowException):
    """Base class of every error this provider raises."""


class HeyGenTransientError(HeyGenError):
    """
    A fault that waiting can mend: a rate limit, a 5xx, a failed or broken connection.

    Pollers (the trigger, the sensor) keep waiting on these; everything else ends the wait.
    """


class HeyGenConnectionError(HeyGenError, AirflowFailException, ValueError):
    """
    The ``heygen`` connection is not usable; raised before any HTTP call.

    Not retried by Airflow: a retry reads the same connection. Fix it, then clear the task.
    """


class HeyGenAPIError(HeyGenError):
    """
    HeyGen answered with an error.

    :param status_code: the HTTP status (kept as ``http_status``), or ``None`` without an HTTP answer.
    :param code: HeyGen's error code (a number on the legacy API, a string on v2 and v3), if any.
    :param message: HeyGen's message, or a description of the body when it was not HeyGen's.
    :param retry_after: seconds the server asked to wait, for rate limits.
    :param heygen_body: the body was one of HeyGen's JSON envelopes (not a proxy's page or a bare 404).
    :param param: the request field v3 names in its error (``error.param``), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | int | None = None,
        retry_after: float | None = None,
        heygen_body: bool = False,
        param: str | None = None,
    ) -> None:
        self.http_status = status_code
        self.code = code
        self.param = param
        self.message = message
        self.retry_after = retry_after
        self.heygen_body = heygen_body
        details = [f"HTTP {status_code}"] if status_code is not None else []
        if code is not None:
            details.append(f"code {code}")
        if param:
            # v3 says which field it refused only here; its message often does not name it.
            details.append(f"param {param}")
        prefix = f"HeyGen API error ({', '.join(details)})" if details else "HeyGen API error"
        super().__init__(f"{prefix}: {message}")


class HeyGenAuthenticationError(HeyGenAPIError):
    """
    401 or 403: the key is wrong, expired or lacks permission.

    The hook never sends the call again, and drops its cached copy of the connection, so the next call
    reads the key afresh. Airflow's retries (when the task has any) do act: a 401 can be transient, and a
    render's retry re-attaches to the video it already paid for instead of submitting again.
    """


class HeyGenNotFoundError(HeyGenAPIError):
    """404: the video (or other resource) does not exist for this key."""


class HeyGenLegacyApiRetiredError(HeyGenNotFoundError, AirflowFailException):
    """A legacy path answered 404, 405 or 410: HeyGen may have retired its legacy API; use ``api_version`` v3."""


class HeyGenRequestInProgressError(HeyGenAPIError, HeyGenTransientError):
    """
    409 ``request_in_progress``: a create with the same idempotency key is still being processed; the only
    409 that is waited out.

    Any other 409 is a :class:`HeyGenIdempotencyConflictError`.
    """


class HeyGenIdempotencyConflictError(HeyGenAPIError, AirflowFailException):
    """
    A 409 other than ``request_in_progress``: HeyGen refused the request as conflicting with another, such
    as an ``Idempotency-Key`` reused with a different body. Sending it again meets the same refusal, so
    neither the hook nor Airflow retries it.
    """


class HeyGenInsufficientCreditError(HeyGenAPIError, AirflowFailException):
    """402: the account has too few credits; HeyGen refused the request without doing the work."""


class HeyGenRateLimitError(HeyGenAPIError, HeyGenTransientError):
    """429: rate or quota limit; the request was refused without doing the work."""


class HeyGenBadRequestError(HeyGenAPIError, AirflowFailException):
    """
    400, 413, 422 or 424: HeyGen rejected the parameters (or, 413 ``payload_too_large``, the body's size).
    The same request would be rejected again.
    """


class HeyGenServerError(HeyGenAPIError, HeyGenTransientError):
    """5xx from HeyGen or a proxy in front of it."""


class HeyGenMalformedResponseError(HeyGenServerError):
    """A 2xx answer that is not HeyGen's JSON (a truncated body, a captive portal): retried for GETs only."""

    #: The body was a web page (it began with ``<``), not a cut-off or garbled JSON answer.
    web_page: bool = False


#: Status checks a ``completed`` answer without a ``video_url`` gets before the wait ends with an error.
VIDEO_URL_CHECKS = 5


def missing_video_url_error(video_id: str, checks: int) -> HeyGenMalformedResponseError:
    """The error that ends a wait on a video HeyGen keeps calling completed without giving its URL."""
    return HeyGenMalformedResponseError(
        f"HeyGen reported video {video_id} completed but gave no video_url in {checks} status checks",
        status_code=200,
    )


class HeyGenAnswerTooLargeError(HeyGenAPIError):
    """
    A 2xx answer longer than the most this provider reads of one answer
    (:mod:`heygen_provider.hooks.calls`): not read further, never parsed. Not retried within the call;
    it ends a wait. A create that gets one may have been accepted, like one whose answer is unreadable.
    """


class HeyGenTransportError(HeyGenTransientError):
    """
    No HTTP answer: the connection failed, was reset, or timed out.

    :param request_may_have_reached_server: ``False`` only when the connection was never established,
        so a create request certainly did not reach HeyGen.
    """

    def __init__(self, message: str, *, request_may_have_reached_server: bool) -> None:
        self.request_may_have_reached_server = request_may_have_reached_server
        super().__init__(message)


class HeyGenRequestValidationError(HeyGenError, AirflowFailException, ValueError):
    """
    A video request broke the spec's rules; raised before any HTTP call.

    An ``AirflowFailException``: retrying the task cannot mend its input, so Airflow does not retry it.

    :param problems: one ``path: rule`` line per bad field, e.g.
        ``video_inputs[0].voice.speed: must be between 0.5 and 1.5 (got 2.0)``.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"Invalid HeyGen video request ({len(self.problems)} problem(s)):\n{lines}")


class HeyGenTemplateVariablesError(HeyGenRequestValidationError):
    """
    A row's variables do not fit the template it renders: each missing, unknown or mistyped variable is
    named, all at once, before any paid call.

    :param template_id: the template.
    :param problems: one ``variables.<name>: rule`` line per bad variable.
    """

    def __init__(self, template_id: str, problems: Iterable[str]) -> None:
        super().__init__(problems)
        self.template_id = template_id
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        self.args = (f"Variables do not fit HeyGen template {template_id} ({len(self.problems)} problem(s)):\n{lines}",)


class HeyGenBudgetExceededError(HeyGenError, AirflowFailException):
    """
    A campaign's estimated cost is over its ``max_cost`` or the account's remaining credit; raised before
    any render, so nothing is paid. Not retried: the estimate would not change.
    """


class HeyGenBudgetInputError(HeyGenError, AirflowFailException, ValueError):
    """
    The budget cannot be checked with what it was given: a parameter that breaks its rule (``max_cost``
    ``"5"``, ``words_per_minute`` 0), or a video whose length cannot be estimated (an audio scene or a
    template scene without a script, and no ``unscripted_scene_seconds``). Raised before any render.

    :param problems: one ``name: rule`` line per problem, e.g. ``max_cost: must be ... (got '5')``.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"Cannot check the budget ({len(self.problems)} problem(s)); nothing was submitted:\n{lines}")


class HeyGenSubmitUncertainError(HeyGenError, AirflowFailException):
    """
    The create request may have reached HeyGen, but no video id came back (a 5xx, a reset connection,
    a read timeout, an unreadable answer).

    Sending it again could pay for a second render, so the task fails without Airflow's automatic
    retries; the message says how to find the video. Clearing the task submits again.
    """


class HeyGenRenderError(HeyGenError):
    """
    A render ended without a video: failed or cancelled for a reason that may not repeat.

    Airflow may retry the task, which submits a new render. See :func:`render_error` for the classes
    of failures that would repeat.

    :param video_id: the HeyGen video id.
    :param status: the public status (``failed``, ``cancelled``) or ``timeout``.
    :param code: HeyGen's error code from the status response, if any.
    :param message: HeyGen's error message, or why waiting stopped.
    """

    def __init__(self, *, video_id: str, status: str, code: str | int | None, message: str) -> None:
        self.video_id = video_id
        self.status = status
        self.code = code
        self.message = message
        code_part = f", code {code}" if code is not None else ""
        super().__init__(f"HeyGen video {video_id} {status}{code_part}: {message}")


class HeyGenRenderRejectedError(HeyGenRenderError, AirflowFailException):
    """
    A render failed for a reason that would repeat identically (the input, the plan or the credit:
    e.g. ``40119`` video too long for the plan, ``MOVIO_PAYMENT_INSUFFICIENT_CREDIT``).

    Not retried by Airflow: a retry would pay for the same failure again.
    """


class HeyGenRenderTimeoutError(HeyGenRenderError):
    """The render did not end before its ``timeout`` or the task's ``execution_timeout``."""


class HeyGenDownloadError(HeyGenError):
    """A media download failed; nothing was left at the destination."""


class MediaUrlExpired(HeyGenDownloadError):
    """The signed media URL was refused, most likely because it expired."""


class HeyGenVideoIdError(HeyGenError, AirflowFailException, ValueError):
    """
    A ``video_id`` no status call can carry (longer than a URL may be); raised before any call. Only the
    wait or task of that id fails; not retried by Airflow, as the id would not change.
    """


class HeyGenDownloadNameError(HeyGenError, AirflowFailException, ValueError):
    """``video_id`` or ``file_stem`` cannot name a file inside the destination; raised before any call."""


class HeyGenDownloadConflictError(HeyGenDownloadError, AirflowFailException):
    """
    The destination holds another video's file (or one nothing says is this video's); it is not replaced.
    Not retried: a retry would find the same file.
    """


#: HeyGen's failure codes of renders that would fail the same way again: the input (too long, blocked
#: words, unknown avatar or voice), the plan and the credit. Compared as lower-case text.
DETERMINISTIC_RENDER_CODES = frozenset(
    {
        "40119",  # video too long for the plan
        "40039",  # invalid text input
        "400105",  # blocked words
        "400116",  # voice not found
        "400144",  # avatar not found
        "400664",  # trial limit exceeded
        "insufficient_credit",
        "movio_payment_insufficient_credit",
        "invalid_parameter",
    }
)


def render_error(*, video_id: str, status: str, code: str | int | None, message: str) -> HeyGenRenderError:
    """
    The exception for a render that ended without a video, of the class that says whether an Airflow
    retry could help: :class:`HeyGenRenderRejectedError` for a failure that would repeat,
    :class:`HeyGenRenderTimeoutError` for a deadline, :class:`HeyGenRenderError` otherwise.
    """
    error_class: type[HeyGenRenderError] = HeyGenRenderError
    if status == "timeout":
        error_class = HeyGenRenderTimeoutError
    elif status == "failed" and code is not None and str(code).strip().lower() in DETERMINISTIC_RENDER_CODES:
        error_class = HeyGenRenderRejectedError
    return error_class(video_id=video_id, status=status, code=code, message=message)


def is_retryable(error: BaseException) -> bool:
    """Whether an Airflow task retry could mend ``error``: decided by its class, once, for every path."""
    return not isinstance(error, AirflowFailException)


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
    Return the ``data`` of a successful HeyGen answer, or raise the matching :class:`HeyGenAPIError`.

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


__all__ = [
    "DETERMINISTIC_RENDER_CODES",
    "REQUEST_IN_PROGRESS",
    "HeyGenAPIError",
    "HeyGenAnswerTooLargeError",
    "HeyGenAuthenticationError",
    "HeyGenBadRequestError",
    "HeyGenBudgetExceededError",
    "HeyGenBudgetInputError",
    "HeyGenConnectionError",
    "HeyGenDownloadConflictError",
    "HeyGenDownloadError",
    "HeyGenDownloadNameError",
    "HeyGenError",
    "HeyGenIdempotencyConflictError",
    "HeyGenInsufficientCreditError",
    "HeyGenLegacyApiRetiredError",
    "HeyGenMalformedResponseError",
    "HeyGenNotFoundError",
    "HeyGenRateLimitError",
    "HeyGenRenderError",
    "HeyGenRenderRejectedError",
    "HeyGenRenderTimeoutError",
    "HeyGenRequestInProgressError",
    "HeyGenRequestValidationError",
    "HeyGenServerError",
    "HeyGenSubmitUncertainError",
    "HeyGenTemplateVariablesError",
    "HeyGenTransientError",
    "HeyGenTransportError",
    "HeyGenVideoIdError",
    "MediaUrlExpired",
    "is_retryable",
    "parse_response",
    "render_error",
]
