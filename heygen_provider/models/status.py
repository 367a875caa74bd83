"""
The status of a render, as the product spec names it, read from any HeyGen status answer.

HeyGen's legacy status endpoint says ``pending``, ``waiting``, ``processing``, ``completed``, ``failed``;
v3 says ``queued``, ``processing``, ``completed``, ``failed``, ``not_found``. :data:`SERVICE_STATUS_MAP`
maps all of them onto the spec's five values; a value nobody has seen yet means "still running", so the
waiter keeps polling until its deadline and never mistakes it for success.
"""

from __future__ import annotations

import enum
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator


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
    """HeyGen's error object of a failed (or, rarely, completed) render."""

    model_config = ConfigDict(extra="allow", frozen=True)

    code: str | int | None = None
    message: str | None = None
    detail: str | None = None


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
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "service_status" in data:
            return data
        data = dict(data)
        raw_status = data.get("status")
        data["service_status"] = str(raw_status) if raw_status is not None else "unknown"
        data["status"] = map_service_status(data["service_status"])
        # v3 reports failures as two flat fields instead of an error object.
        if data.get("error") in (None, {}) and (data.get("failure_code") or data.get("failure_message")):
            data["error"] = {"code": data.get("failure_code"), "message": data.get("failure_message")}
        if data.get("error") in ({}, ""):
            data["error"] = None
        if isinstance(data.get("error"), str):
            data["error"] = {"message": data["error"]}
        return data

    @property
    def is_terminal(self) -> bool:
        """The render has ended: success, failed or cancelled."""
        return self.status.is_terminal

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
