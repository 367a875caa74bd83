"""
The exceptions this provider raises, and which of them an Airflow task retry could mend.

HeyGen's answers become these exceptions in :mod:`heygen_provider.hooks.answers` (the one answer parser);
a render that ended without a video becomes one in :func:`heygen_provider.models.event.render_error`.
"""

from __future__ import annotations

from collections.abc import Iterable

from airflow.sdk.exceptions import AirflowException

from heygen_provider._compat import AirflowFailException
from heygen_provider._moved import moved_to


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

    Airflow may retry the task, which submits a new render. See
    :func:`~heygen_provider.models.event.render_error` for the classes of failures that would repeat.

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


class HeyGenRenderSlotTimeoutError(HeyGenRenderTimeoutError):
    """
    No render slot became free before the ``timeout`` (or the task's ``execution_timeout``): every create
    of this render was refused with HTTP 429 ``rate_limit_exceeded``, so nothing was submitted or paid.
    An Airflow retry (if the task has any) waits for a slot again.

    :param message: why the wait ended, saying it was waiting for a render slot.
    :param waited_seconds: seconds since the first refusal.
    """

    def __init__(self, message: str, *, waited_seconds: float) -> None:
        self.video_id = ""
        self.status = "timeout"
        self.code = "rate_limit_exceeded"
        self.message = message
        self.waited_seconds = waited_seconds
        HeyGenError.__init__(self, message)


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


def is_retryable(error: BaseException) -> bool:
    """Whether an Airflow task retry could mend ``error``: decided by its class, once, for every path."""
    return not isinstance(error, AirflowFailException)


#: Names that still import from here, with a DeprecationWarning, until the next major release, and their
#: homes: the answer parser belongs to the transport, the render-failure rules to the models.
_MOVED = {
    "LEGACY_SUCCESS_CODE": "heygen_provider.hooks.answers",
    "REQUEST_IN_PROGRESS": "heygen_provider.hooks.answers",
    "error_class_for_status": "heygen_provider.hooks.answers",
    "parse_response": "heygen_provider.hooks.answers",
    "DETERMINISTIC_RENDER_CODES": "heygen_provider.models.event",
    "render_error": "heygen_provider.models.event",
    "VIDEO_URL_CHECKS": "heygen_provider.models.status",
    "missing_video_url_error": "heygen_provider.models.status",
}


__getattr__ = moved_to(__name__, {name: f"{home}.{name}" for name, home in _MOVED.items()})


__all__ = [
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
    "HeyGenRenderSlotTimeoutError",
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
]
