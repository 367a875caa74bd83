"""Typed answers of HeyGen's account endpoints and of the create call."""

from __future__ import annotations

import math
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StrictStr

from heygen_provider.exceptions import HeyGenMalformedResponseError


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
        """
        Read the billing part of ``GET /v3/users/me``, whichever of its three kinds it is.

        :raises HeyGenMalformedResponseError: naming the field, when a billing part is not an object or a
            balance not a finite number (text, a bool, NaN, an infinity): read as nothing left or as no
            limit, it would refuse every campaign or let any through.
        """
        user = _object(data, "data")
        usage = _object(user.get("usage_based"), "usage_based")
        credits = _object(_object(user.get("subscription"), "subscription").get("credits"), "subscription.credits")
        wallet = _object(user.get("wallet"), "wallet")
        usage_credits = _number(usage.get("remaining_credits"), "usage_based.remaining_credits")
        if usage_credits is not None:
            remaining, unit = usage_credits, "credits"
        elif usage or user.get("billing_type") == "usage_based":
            # Metered billing: without included credits what is left is the spending cap's headroom, and
            # without a cap nothing runs out. Read as 0 credits, every budget check would refuse.
            cap = _number(usage.get("spending_cap_usd"), "usage_based.spending_cap_usd")
            spent = _number(usage.get("spending_current_usd"), "usage_based.spending_current_usd") or 0.0
            remaining, unit = (math.inf, "USD") if cap is None else (max(0.0, cap - spent), "USD")
        elif credits:
            remaining, unit = sum(_pool_remaining(name, pool) for name, pool in credits.items()), "credits"
        elif _number(wallet.get("remaining_balance"), "wallet.remaining_balance") is not None:
            remaining = _number(wallet.get("remaining_balance"), "wallet.remaining_balance") or 0.0
            currency = wallet.get("currency") or "USD"
            if not isinstance(currency, str) or currency.lower() not in ("usd", "credits"):
                # Read as credits, a balance in another currency would be compared as minutes of video.
                raise _unreadable("wallet.currency", "usd or credits", currency)
            unit = currency
        else:
            remaining, unit = 0.0, "credits"
        return cls(remaining_quota=remaining * 60, details=user, unit=unit)


#: The credit pools ``GET /v3/users/me`` documents under ``subscription.credits``.
DOCUMENTED_POOLS = ("premium_credits", "add_on_credits")


def _pool_remaining(name: str, pool: Any) -> float:
    """
    What a subscription's credit pool has left. A documented pool must be readable; a pool HeyGen adds
    later counts only when it is, since leaving it out can only make the budget stricter.
    """
    field = f"subscription.credits.{name}"
    try:
        return _number(_object(pool, field).get("remaining"), f"{field}.remaining") or 0.0
    except HeyGenMalformedResponseError:
        if name in DOCUMENTED_POOLS:
            raise
        return 0.0


def _object(value: Any, name: str) -> dict[str, Any]:
    """A part of ``GET /v3/users/me`` that is an object, or absent (``{}``)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _unreadable(name, "an object", value)
    return value


def _number(value: Any, name: str) -> float | None:
    """A balance of ``GET /v3/users/me``: a finite number, or absent (``None``)."""
    if value is None:
        return None
    try:
        number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
    except OverflowError:  # an integer of hundreds of digits
        number = math.nan
    if not math.isfinite(number):
        raise _unreadable(name, "a finite number", value)
    return number


def _unreadable(name: str, rule: str, value: Any) -> HeyGenMalformedResponseError:
    return HeyGenMalformedResponseError(
        f"GET /v3/users/me answered {name} = {value!r:.80}, which is not {rule}: the remaining credit cannot be "
        "read (a budget preflight's check_credit=False skips it)",
        status_code=200,
    )
