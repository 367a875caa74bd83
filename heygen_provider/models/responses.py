"""Typed answers of HeyGen's account endpoints and of the create call."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    # HeyGen adds fields over time; an answer model must never break on them.
    model_config = ConfigDict(extra="allow", frozen=True)


class CreatedVideo(_Answer):
    """The answer of ``POST /v2/video/generate``."""

    video_id: str = Field(min_length=1)


class Avatar(_Answer):
    avatar_id: str
    avatar_name: str | None = None
    gender: str | None = None
    preview_image_url: str | None = None
    preview_video_url: str | None = None
    premium: bool | None = None


class TalkingPhoto(_Answer):
    talking_photo_id: str
    talking_photo_name: str | None = None
    preview_image_url: str | None = None


class AvatarList(_Answer):
    """The answer of ``GET /v2/avatars``."""

    avatars: list[Avatar] = Field(default_factory=list)
    talking_photos: list[TalkingPhoto] = Field(default_factory=list)


class Voice(_Answer):
    voice_id: str
    name: str | None = None
    language: str | None = None
    gender: str | None = None
    preview_audio: str | None = None
    support_pause: bool | None = None
    emotion_support: bool | None = None


class VoiceList(_Answer):
    """The answer of ``GET /v2/voices``."""

    voices: list[Voice] = Field(default_factory=list)


class RemainingQuota(_Answer):
    """The answer of ``GET /v2/user/remaining_quota``; HeyGen counts 60 quota units per credit."""

    remaining_quota: float
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def remaining_credits(self) -> float:
        return self.remaining_quota / 60
