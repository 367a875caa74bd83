"""Typed answers of HeyGen's account endpoints and of the create call."""

from __future__ import annotations

import math
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StrictStr


class _Answer(BaseModel):
    # HeyGen adds fields over time; an answer model must never break on them.
    model_config = ConfigDict(extra="allow", frozen=True)


class CreatedVideo(_Answer):
    """
    The answer of a create call: ``POST /v3/videos`` and ``POST /v2/video/generate`` say ``video_id``,
    ``POST /v3/templates/{id}`` answers with the video itself (``id``).
    """

    video_id: StrictStr = Field(min_length=1, validation_alias=AliasChoices("video_id", "id"))


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
    """The answer of ``GET /v2/avatars``, or of ``GET /v3/avatars/looks`` (each look as an avatar)."""

    avatars: list[Avatar] = Field(default_factory=list)
    talking_photos: list[TalkingPhoto] = Field(default_factory=list)

    @classmethod
    def from_v3_looks(cls, data: Any) -> AvatarList:
        """The looks of ``GET /v3/avatars/looks``: a look's ``id`` is what ``avatar_id`` takes on v3."""
        looks = data if isinstance(data, list) else []
        return cls(
            avatars=[
                Avatar.model_validate({**look, "avatar_id": look.get("id"), "avatar_name": look.get("name")})
                for look in looks
                if isinstance(look, dict) and look.get("id")
            ]
        )


class Voice(_Answer):
    voice_id: str
    name: str | None = None
    language: str | None = None
    gender: str | None = None
    preview_audio: str | None = None
    support_pause: bool | None = None
    emotion_support: bool | None = None


class VoiceList(_Answer):
    """The answer of ``GET /v2/voices`` or ``GET /v3/voices``."""

    voices: list[Voice] = Field(default_factory=list)

    @classmethod
    def from_v3_voices(cls, data: Any) -> VoiceList:
        """The voices of ``GET /v3/voices``, whose preview is ``preview_audio_url``."""
        voices = data if isinstance(data, list) else []
        return cls(
            voices=[
                Voice.model_validate({**voice, "preview_audio": voice.get("preview_audio_url")})
                for voice in voices
                if isinstance(voice, dict) and voice.get("voice_id")
            ]
        )


class RemainingQuota(_Answer):
    """
    What the account has left: the answer of ``GET /v2/user/remaining_quota`` (HeyGen counts 60 quota
    units per credit), or of ``GET /v3/users/me`` (credits, or a prepaid balance in ``unit`` USD; on
    usage-based billing the spending cap's headroom in USD, infinite without a cap).
    """

    remaining_quota: float
    details: dict[str, Any] = Field(default_factory=dict)
    unit: str = "credits"

    @property
    def remaining_credits(self) -> float:
        return self.remaining_quota / 60

    def describe(self) -> str:
        """
        What is left, for a person: ``66,692.60 USD of credit remaining``, ``1,500 credits remaining``, or
        ``usage-based billing with no spending cap``.
        """
        amount = self.remaining_credits
        if math.isinf(amount):
            return "usage-based billing with no spending cap"
        if self.unit.lower() == "credits":
            # Whole credits read as such; fractions of a credit to two places at most.
            number = f"{amount:,.2f}".rstrip("0").rstrip(".")
            return f"{number} {'credit' if number == '1' else 'credits'} remaining"
        return f"{amount:,.2f} {self.unit.upper()} of credit remaining"

    @classmethod
    def from_v3_user(cls, data: Any) -> RemainingQuota:
        """Read the billing part of ``GET /v3/users/me``, whichever of its three kinds it is."""
        user = data if isinstance(data, dict) else {}
        usage = user.get("usage_based") or {}
        subscription = (user.get("subscription") or {}).get("credits") or {}
        wallet = user.get("wallet") or {}
        if isinstance(usage, dict) and _number(usage.get("remaining_credits")) is not None:
            remaining, unit = _number(usage.get("remaining_credits")), "credits"
        elif isinstance(usage, dict) and (usage or user.get("billing_type") == "usage_based"):
            # Metered billing: without included credits what is left is the spending cap's headroom, and
            # without a cap nothing runs out. Read as 0 credits, every budget check would refuse.
            cap = _number(usage.get("spending_cap_usd"))
            spent = _number(usage.get("spending_current_usd")) or 0.0
            remaining, unit = (math.inf, "USD") if cap is None else (max(0.0, cap - spent), "USD")
        elif isinstance(subscription, dict) and subscription:
            remaining = sum(
                _number((pool or {}).get("remaining")) or 0.0
                for pool in subscription.values()
                if isinstance(pool, dict)
            )
            unit = "credits"
        elif isinstance(wallet, dict) and _number(wallet.get("remaining_balance")) is not None:
            remaining, unit = _number(wallet.get("remaining_balance")), str(wallet.get("currency") or "USD")
        else:
            remaining, unit = 0.0, "credits"
        return cls(remaining_quota=(remaining or 0.0) * 60, details=user, unit=unit)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
