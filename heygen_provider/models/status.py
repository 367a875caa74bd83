"""
The status of a render, as the product spec names it, read from any HeyGen status answer.

HeyGen's legacy status endpoint says ``pending``, ``waiting``, ``processing``, ``completed``, ``failed``;
v3 says ``queued``, ``processing``, ``completed``, ``failed``, ``not_found``. :data:`SERVICE_STATUS_MAP`
maps all of them onto the spec's five values; a value nobody has seen yet means "still running", so the
waiter keeps polling until its deadline and never mistakes it for success.
"""

from __future__ import annotations

import enum
import json
import logging
import math
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from heygen_provider.exceptions import HeyGenMalformedResponseError


class VideoStatus(str, enum.Enum):
    """The spec's status values."""

    QUEUED = "queued"
    PROCESSING = "processing"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (VideoStatus.SUCCESS, VideoStatus.FAILED, VideoStatus.CANCELLED)


#: Every status value HeyGen is known to send, mapped onto the spec's set.
SERVICE_STATUS_MAP: dict[str, VideoStatus] = {
    "pending": VideoStatus.QUEUED,
    "waiting": VideoStatus.QUEUED,
    "queued": VideoStatus.QUEUED,
    "processing": VideoStatus.PROCESSING,
    "completed": VideoStatus.SUCCESS,
    "success": VideoStatus.SUCCESS,
    "failed": VideoStatus.FAILED,
    # v3's bulk endpoint: the id is unknown, so waiting longer cannot help.
    "not_found": VideoStatus.FAILED,
    "cancelled": VideoStatus.CANCELLED,
    "canceled": VideoStatus.CANCELLED,
}


def map_service_status(value: str | None) -> VideoStatus:
    """Map a status value from HeyGen onto the spec's set; unknown means still processing."""
    return SERVICE_STATUS_MAP.get((value or "").strip().lower(), VideoStatus.PROCESSING)


class VideoError(BaseModel):
    """
    HeyGen's error object of a failed (or, rarely, completed) render.

    Only information: an odd ``code``, ``message`` or ``detail`` (an object, a list) is kept as its JSON
    text rather than failing the status answer it came with.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    code: str | int | None = None
    message: str | None = None
    detail: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _tolerate(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        code = data.get("code")
        if isinstance(code, float) and code.is_integer():
            data["code"] = int(code)
        elif code is not None and not _is_int(code) and not isinstance(code, str):
            data["code"] = _as_text(code)
            _log.warning("HeyGen status: the error code is neither text nor a number; kept as its JSON text")
        for name in ("message", "detail"):
            if data.get(name) is not None and not isinstance(data[name], str):
                data[name] = _as_text(data[name])
                _log.warning("HeyGen status: the error %s is not text; kept as its JSON text", name)
        return data


class VideoStatusResponse(BaseModel):
    """
    One status answer, from ``GET /v1/video_status.get`` or ``GET /v3/videos/{id}``.

    ``status`` is the spec's value; ``service_status`` keeps what HeyGen said. A ``completed`` video may
    still carry an ``error`` (seen with credit problems on free plans): success is decided on the status,
    and the error is kept as information.
    """

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    video_id: str = Field(validation_alias=AliasChoices("video_id", "id"))
    status: VideoStatus
    service_status: str
    video_url: str | None = None
    video_url_caption: str | None = Field(
        default=None, validation_alias=AliasChoices("video_url_caption", "captioned_video_url")
    )
    thumbnail_url: str | None = None
    gif_url: str | None = None
    caption_url: str | None = Field(default=None, validation_alias=AliasChoices("caption_url", "subtitle_url"))
    video_page_url: str | None = None
    duration: float | None = None
    created_at: int | float | str | None = None
    callback_id: str | None = None
    error: VideoError | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or isinstance(data.get("status"), VideoStatus):
            return data
        data = dict(data)
        raw_status = data.get("status")
        data["service_status"] = str(raw_status) if raw_status is not None else "unknown"
        data["status"] = map_service_status(data["service_status"])
        # Optional fields are information: an odd one is dropped with a warning, never a crash, so a
        # paid video is delivered whatever else its status answer says. The status alone decides.
        video_id = _video_id(data, (info.context or {}).get("video_id"))
        if video_id is not None:
            data.pop("id", None)
            data["video_id"] = video_id
        for name, tolerate in _OPTIONAL_FIELDS.items():
            if data.get(name) is not None:
                kept = tolerate(data[name])
                if kept is None:
                    _drop(data, name, video_id)
                else:
                    data[name] = kept
        # v3 reports failures as two flat fields instead of an error object.
        if _is_empty(data.get("error")) and (data.get("failure_code") or data.get("failure_message")):
            data["error"] = {"code": data.get("failure_code"), "message": data.get("failure_message")}
        data["error"] = _error(data.get("error"), video_id)
        return data

    @property
    def is_terminal(self) -> bool:
        """The render has ended (success, failed or cancelled) and, for a success, its video URL is known."""
        return self.status.is_terminal and not self.awaiting_video_url

    @property
    def awaiting_video_url(self) -> bool:
        """HeyGen says ``completed`` but gave no ``video_url`` yet: worth asking again, a little."""
        return self.status is VideoStatus.SUCCESS and not self.video_url

    @property
    def is_success(self) -> bool:
        return self.status is VideoStatus.SUCCESS

    def to_result(self) -> dict[str, Any]:
        """The JSON-able result an operator returns and pushes to XCom."""
        return {
            "video_id": self.video_id,
            "status": self.status.value,
            "service_status": self.service_status,
            "video_url": self.video_url,
            "video_url_caption": self.video_url_caption,
            "thumbnail_url": self.thumbnail_url,
            "gif_url": self.gif_url,
            "caption_url": self.caption_url,
            "video_page_url": self.video_page_url,
            "duration": self.duration,
            "callback_id": self.callback_id,
            "error": self.error.model_dump(exclude_none=True) if self.error else None,
        }


#: Status checks a ``completed`` answer without a ``video_url`` gets before the wait ends with an error.
VIDEO_URL_CHECKS = 5


def missing_video_url_error(video_id: str, checks: int) -> HeyGenMalformedResponseError:
    """The error that ends a wait on a video HeyGen keeps calling completed without giving its URL."""
    return HeyGenMalformedResponseError(
        f"HeyGen reported video {video_id} completed but gave no video_url in {checks} status checks",
        status_code=200,
    )


_log = logging.getLogger(__name__)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_empty(value: Any) -> bool:
    """``None``, ``{}``, ``[]``, ``""``, ``0`` or ``false``: no error."""
    return value is None or (not value and isinstance(value, (dict, list, str, int, float)))


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _id_text(value: Any) -> str | None:
    # A number is a plausible id (HeyGen echoes a callback_id as it was sent); anything else is not.
    if _is_int(value):
        return str(value)
    return value if isinstance(value, str) and value else None


def _duration(value: Any) -> float | None:
    if isinstance(value, str):  # "12.5", "12.5s"
        try:
            value = float(value.strip().lower().removesuffix("s"))
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        return None
    return float(value)


def _created_at(value: Any) -> int | float | str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    return value if not isinstance(value, float) or math.isfinite(value) else None


#: Each optional field, under every name HeyGen uses, and what of it is kept: ``None`` drops it.
_OPTIONAL_FIELDS: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(
        (
            "video_url",
            "video_url_caption",
            "captioned_video_url",
            "thumbnail_url",
            "gif_url",
            "caption_url",
            "subtitle_url",
            "video_page_url",
        ),
        _text,
    ),
    "callback_id": _id_text,
    "duration": _duration,
    "created_at": _created_at,
}


def _video_id(data: dict[str, Any], requested: str | None) -> str | None:
    """The answer's id (text, or a number), else the id the caller asked about."""
    for name in ("video_id", "id"):
        # A falsy id (an empty text, 0) counts as missing, as the legacy endpoint sometimes omits it.
        if data.get(name) and (video_id := _id_text(data[name])) is not None:
            return video_id
    if requested is not None and not (_is_empty(data.get("video_id")) and _is_empty(data.get("id"))):
        _log.warning("HeyGen status of video %s: ignoring an id that is neither text nor a number", requested)
    return requested


def _error(error: Any, video_id: str | None) -> Any:
    if _is_empty(error):
        return None
    if isinstance(error, str):
        return {"message": error}
    if not isinstance(error, dict):
        _log.warning("HeyGen status of video %s: error is not an object; kept as its JSON text", video_id)
        return {"message": _as_text(error)}
    return error


def _drop(data: dict[str, Any], name: str, video_id: str | None) -> None:
    shown = repr(data.pop(name))
    _log.warning(
        "HeyGen status of video %s: ignoring %s=%s, not of the expected type",
        video_id,
        name,
        shown if len(shown) <= 80 else shown[:77] + "...",
    )


def bulk_statuses(data: Any, asked: Iterable[str]) -> dict[str, VideoStatusResponse]:
    """
    The statuses a bulk status answer (v3 ``GET /v3/videos/statuses``: a list of ``{video_id, status,
    error}``) gives for the ``asked`` ids. An entry for an id not asked about, without a status, or that
    cannot be read is left out: the caller asks about a missing id one by one, never guesses.
    """
    wanted = set(asked)
    found: dict[str, VideoStatusResponse] = {}
    for entry in data if isinstance(data, list) else ():
        if not isinstance(entry, dict) or entry.get("status") is None:
            continue
        video_id = _id_text(entry.get("video_id"))
        if video_id is None or video_id not in wanted:
            continue
        try:
            found[video_id] = VideoStatusResponse.model_validate(
                {"video_id": video_id, "status": entry["status"], "error": entry.get("error")},
                context={"video_id": video_id},
            )
        except ValueError:
            _log.warning("HeyGen bulk status of video %s could not be read; asking about it alone", video_id)
    return found
