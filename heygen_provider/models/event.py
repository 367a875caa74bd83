"""
:class:`VideoEvent`: what the status trigger reports, and how the operator and the sensor read it.

One typed event crosses from the trigger (in the triggerer, or on the worker in blocking mode) to the
task's resume method. On the wire it is the JSON object of :meth:`VideoEvent.to_payload`:

* ``status``: the spec's status (``success``, ``failed``, ``cancelled``, or ``queued``/``processing``
  for a status read without waiting), or ``timeout`` (a deadline passed first), or ``error`` (HeyGen
  could not be asked: a bad key, an unknown video, a broken connection);
* ``video_id``, HeyGen's error ``code`` and ``message``, and ``result`` (the task result of a status);
* for ``error`` events, ``error_class`` and ``http_status``, so :meth:`VideoEvent.result_or_raise`
  raises the same exception class in every mode: a bad key is a
  :class:`~heygen_provider.exceptions.HeyGenAuthenticationError` whether the sensor poked or deferred.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from heygen_provider._compat import AirflowNotFoundException
from heygen_provider.exceptions import (
    HeyGenAnswerTooLargeError,
    HeyGenAPIError,
    HeyGenAuthenticationError,
    HeyGenBadRequestError,
    HeyGenConnectionError,
    HeyGenError,
    HeyGenIdempotencyConflictError,
    HeyGenInsufficientCreditError,
    HeyGenLegacyApiRetiredError,
    HeyGenMalformedResponseError,
    HeyGenNotFoundError,
    HeyGenRateLimitError,
    HeyGenRenderError,
    HeyGenRenderRejectedError,
    HeyGenRenderTimeoutError,
    HeyGenServerError,
    HeyGenVideoIdError,
)
from heygen_provider.models.status import VideoStatusResponse
from heygen_provider.vocabulary import RenderStatus

SUCCESS = RenderStatus.SUCCESS
TIMEOUT = RenderStatus.TIMEOUT
ERROR = RenderStatus.ERROR
#: Statuses after which the render will not change any more.
RENDER_ENDED = frozenset({RenderStatus.SUCCESS, RenderStatus.FAILED, RenderStatus.CANCELLED})

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
    retry could help: :class:`~heygen_provider.exceptions.HeyGenRenderRejectedError` for a failure that
    would repeat, :class:`~heygen_provider.exceptions.HeyGenRenderTimeoutError` for a deadline,
    :class:`~heygen_provider.exceptions.HeyGenRenderError` otherwise.
    """
    error_class: type[HeyGenRenderError] = HeyGenRenderError
    if status == RenderStatus.TIMEOUT:
        error_class = HeyGenRenderTimeoutError
    elif status == RenderStatus.FAILED and code is not None and str(code).strip().lower() in DETERMINISTIC_RENDER_CODES:
        error_class = HeyGenRenderRejectedError
    return error_class(video_id=video_id, status=status, code=code, message=message)


_API_ERRORS: dict[str, type[HeyGenAPIError]] = {
    error_class.__name__: error_class
    for error_class in (
        HeyGenAPIError,
        HeyGenAnswerTooLargeError,
        HeyGenAuthenticationError,
        HeyGenBadRequestError,
        HeyGenIdempotencyConflictError,
        HeyGenInsufficientCreditError,
        HeyGenLegacyApiRetiredError,
        HeyGenMalformedResponseError,
        HeyGenNotFoundError,
        HeyGenRateLimitError,
        HeyGenServerError,
    )
}
_PLAIN_ERRORS: dict[str, type[Exception]] = {
    error_class.__name__: error_class
    for error_class in (HeyGenConnectionError, HeyGenVideoIdError, HeyGenError, AirflowNotFoundException)
}


@dataclass(frozen=True)
class VideoEvent:
    """
    One status trigger event.

    :param status: see the module's description.
    :param video_id: the HeyGen video id.
    :param message: HeyGen's message, or why waiting stopped.
    :param code: HeyGen's error code, if any.
    :param result: the task result (for a status event), else ``None``.
    :param error_class: for ``error`` events, the name of the exception class to raise.
    :param http_status: for ``error`` events from an HTTP answer, its status.
    """

    status: str
    video_id: str
    message: str
    code: str | int | None = None
    result: dict[str, Any] | None = None
    error_class: str | None = None
    http_status: int | None = None

    @classmethod
    def from_status(cls, status: VideoStatusResponse) -> VideoEvent:
        """The event of a status answer."""
        error = status.error
        message = error.message if error and error.message else None
        if message is None:
            no_reason = status.status.value == RenderStatus.FAILED
            message = (
                f"HeyGen gave no reason (status {status.service_status!r})"
                if no_reason
                else f"HeyGen status {status.service_status!r}"
            )
        return cls(
            status=status.status.value,
            video_id=status.video_id,
            message=message,
            code=error.code if error else None,
            result=status.to_result(),
        )

    @classmethod
    def timeout(cls, video_id: str, message: str) -> VideoEvent:
        """The event of a wait that reached a deadline first."""
        return cls(status=TIMEOUT, video_id=video_id, message=message)

    @classmethod
    def from_error(cls, video_id: str, error: Exception) -> VideoEvent:
        """The event of a fault that waiting cannot mend; keeps what rebuilding the exception needs."""
        if isinstance(error, HeyGenAPIError):
            return cls(
                status=ERROR,
                video_id=video_id,
                message=error.message,
                code=error.code,
                error_class=type(error).__name__ if type(error).__name__ in _API_ERRORS else "HeyGenAPIError",
                http_status=error.http_status,
            )
        name = next((known for known, kind in _PLAIN_ERRORS.items() if type(error) is kind), None)
        if name is None:
            name = next((known for known, kind in _PLAIN_ERRORS.items() if isinstance(error, kind)), "HeyGenError")
        return cls(status=ERROR, video_id=video_id, message=str(error), error_class=name)

    @property
    def render_ended(self) -> bool:
        """The render has ended: success, failed or cancelled."""
        return self.status in RENDER_ENDED

    def to_payload(self) -> dict[str, Any]:
        """The JSON-able payload of a :class:`~airflow.triggers.base.TriggerEvent`."""
        return {
            "status": self.status,
            "video_id": self.video_id,
            "code": self.code,
            "message": self.message,
            "result": self.result,
            "error_class": self.error_class,
            "http_status": self.http_status,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> VideoEvent:
        """Read a payload, also one written by an older version of the trigger (no ``error_class``)."""
        result = payload.get("result")
        code = payload.get("code")
        http_status = payload.get("http_status")
        return cls(
            status=str(payload.get("status")),
            video_id=str(payload.get("video_id")),
            message=str(payload.get("message") or "no message"),
            code=code if isinstance(code, (str, int)) else None,
            result=result if isinstance(result, dict) else None,
            error_class=payload.get("error_class") if isinstance(payload.get("error_class"), str) else None,
            http_status=http_status if isinstance(http_status, int) else None,
        )

    def result_or_raise(self) -> dict[str, Any]:
        """
        The task result of a ``success`` event.

        :raises HeyGenRenderError: for a render that ended without a video (of the subclass that says
            whether a retry could help, see :func:`render_error`), or for a
            deadline (:class:`~heygen_provider.exceptions.HeyGenRenderTimeoutError`). Cancelled is never
            success.
        :raises HeyGenError: for an ``error`` event, of the class the fault raised where it happened.
        """
        if self.status == SUCCESS and self.result is not None:
            return self.result
        if self.status == ERROR:
            raise self._rebuilt_error()
        raise render_error(video_id=self.video_id, status=self.status, code=self.code, message=self.message)

    def _rebuilt_error(self) -> Exception:
        api_error = _API_ERRORS.get(self.error_class or "")
        if api_error is not None:
            return api_error(self.message, status_code=self.http_status, code=self.code)
        plain_error = _PLAIN_ERRORS.get(self.error_class or "")
        if plain_error is not None:
            return plain_error(self.message)
        # An event without an error class (an older trigger's) raises a render error from its status.
        return HeyGenRenderError(video_id=self.video_id, status=self.status, code=self.code, message=self.message)
