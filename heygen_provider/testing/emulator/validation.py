"""Validation of video creation requests, written from HeyGen's documentation, not from our models.

It is deliberately independent of :mod:`heygen_provider.models`: the emulator exists to catch the
hook sending something HeyGen would refuse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from heygen_provider.testing.emulator import catalogue
from heygen_provider.testing.emulator.settings import EmulatorSettings

MAX_SCENES = 50
MAX_INPUT_TEXT = 5000
AVATAR_STYLES = ("normal", "circle", "closeUp")
TALKING_STYLES = ("stable", "expressive")
EXPRESSIONS = ("default", "happy")
EMOTIONS = ("Excited", "Friendly", "Serious", "Soothing", "Broadcaster")
BACKGROUND_FITS = ("cover", "contain", "crop", "none")
VIDEO_PLAY_STYLES = ("freeze", "loop", "fit_to_scene", "once")
ORIENTATIONS = ("portrait", "landscape", "square")
MAX_SILENCE_SECONDS = 100.0
# Spoken English runs at about 15 characters a second; good enough to give videos a length.
CHARACTERS_PER_SECOND = 15.0
AUDIO_SCENE_SECONDS = 10.0
HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")  # HeyGen: a 6-digit hex string, e.g. "#1a2b3c"


class Rejection(Exception):
    """A request HeyGen refuses before doing any work.

    :param message: the human-readable reason, naming the offending field.
    :param code: HeyGen's error code (snake case in v2 bodies).
    :param http_status: the HTTP status of the answer.
    :param param: the offending field as a path (v3 answers name it), if known.
    """

    def __init__(
        self, message: str, code: str = "invalid_parameter", http_status: int = 400, param: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.param = param


@dataclass(frozen=True)
class VideoLook:
    """What the first scene shows, so that the emulator's drawn video looks like what was asked for.

    :param avatar_id: the avatar (or talking photo) id the scene names, if any.
    :param background_colour: the background colour it asks for (``#rrggbb``), if any.
    :param photo_asset_id: the uploaded image it animates, named by asset id (or legacy ``image_key``).
    :param photo_url: the image it animates, named by URL.
    :param photo_data: the image it animates, sent inline (v3's ``base64`` image input).
    """

    avatar_id: str | None = None
    background_colour: str | None = None
    photo_asset_id: str | None = None
    photo_url: str | None = None
    photo_data: bytes | None = field(default=None, repr=False)

    @property
    def is_photo(self) -> bool:
        """Whether the scene animates a photo rather than an avatar."""
        return bool(self.photo_asset_id or self.photo_url or self.photo_data)


@dataclass(frozen=True)
class RenderRequest:
    """What the emulator keeps of an accepted creation request.

    :param script: the spoken text of all scenes, for captions.
    :param duration_seconds: the estimated length of the finished video.
    :param caption: whether captions were asked for.
    :param title: the video title.
    :param callback_id: echoed back in the status.
    :param test: HeyGen's free, watermarked test mode (does not use quota).
    :param magic_text: text searched for ``emulator:`` scenario markers (title and callback id).
    :param output_format: ``mp4`` or ``webm`` (v3's ``output_format``).
    :param burned_captions: whether a video with captions burned in is made; ``None`` means whenever
        captions are asked for (the legacy API makes both the sidecar file and that video).
    :param look: what its first scene shows, for the video the emulator draws.
    """

    script: str
    duration_seconds: float
    caption: bool
    title: str | None
    callback_id: str | None
    test: bool
    magic_text: str
    output_format: str = "mp4"
    burned_captions: bool | None = None
    look: VideoLook = VideoLook()

    @property
    def captioned_video(self) -> bool:
        """Whether the finished video has a captioned copy (``video_url_caption``, ``captioned_video_url``)."""
        return self.caption if self.burned_captions is None else self.burned_captions


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Checker:
    """Field checks that name the offending field the way HeyGen's messages do."""

    def __init__(self, obj: dict[str, Any], where: str) -> None:
        self.obj = obj
        self.where = where

    def name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def object(self, key: str, required: bool = False) -> dict[str, Any] | None:
        value = self.obj.get(key)
        if value is None:
            if required:
                raise Rejection(f"{self.name(key)} is required")
            return None
        if not isinstance(value, dict):
            raise Rejection(f"{self.name(key)} must be an object")
        return value

    def string(self, key: str, required: bool = False, max_length: int | None = None) -> str | None:
        value = self.obj.get(key)
        if value is None:
            if required:
                raise Rejection(f"{self.name(key)} is required")
            return None
        if not isinstance(value, str):
            raise Rejection(f"{self.name(key)} must be a string")
        if required and not value.strip():
            raise Rejection(f"{self.name(key)} must not be empty")
        if max_length is not None and len(value) > max_length:
            raise Rejection(f"{self.name(key)} must be at most {max_length} characters, got {len(value)}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], required: bool = False) -> str | None:
        value = self.string(key, required=required)
        if value is not None and value not in choices:
            raise Rejection(f"{self.name(key)} must be one of {', '.join(choices)}; got {value!r}")
        return value

    def number(self, key: str, low: float, high: float, integer: bool = False) -> float | None:
        value = self.obj.get(key)
        if value is None:
            return None
        if integer and (not isinstance(value, int) or isinstance(value, bool)):
            raise Rejection(f"{self.name(key)} must be an integer")
        if not _is_number(value):
            raise Rejection(f"{self.name(key)} must be a number")
        if not low <= value <= high:
            raise Rejection(f"{self.name(key)} must be between {low:g} and {high:g}; got {value}")
        return float(value)

    def boolean(self, key: str) -> bool:
        value = self.obj.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise Rejection(f"{self.name(key)} must be a boolean")
        return value

    def exactly_one(self, keys: tuple[str, str]) -> None:
        present = [key for key in keys if self.obj.get(key) not in (None, "")]
        if len(present) != 1:
            raise Rejection(f"{self.where} needs exactly one of {keys[0]} or {keys[1]}")
        self.string(present[0], required=True)


def _check_character(character: dict[str, Any], where: str, settings: EmulatorSettings) -> None:
    check = _Checker(character, where)
    kind = check.choice("type", ("avatar", "talking_photo"), required=True)
    if kind == "avatar":
        avatar_id = check.string("avatar_id", required=True)
        if settings.strict_catalogue and avatar_id not in catalogue.AVATAR_IDS:
            raise Rejection(f"Avatar {avatar_id} not found or no longer available", code="avatar_not_found")
    else:
        photo_id = check.string("talking_photo_id", required=True)
        if settings.strict_catalogue and photo_id not in catalogue.TALKING_PHOTO_IDS:
            raise Rejection(f"Talking photo {photo_id} not found", code="avatar_not_found")
    check.choice("avatar_style", AVATAR_STYLES)
    check.number("scale", 0.0, 5.0)
    offset = check.object("offset")
    if offset is not None:
        offset_check = _Checker(offset, check.name("offset"))
        offset_check.number("x", -1e6, 1e6)
        offset_check.number("y", -1e6, 1e6)
    check.choice("talking_style", TALKING_STYLES)
    check.choice("expression", EXPRESSIONS)
    for flag in ("matting", "super_resolution", "use_avatar_iv_model"):
        check.boolean(flag)


def _check_voice(voice: dict[str, Any], where: str, settings: EmulatorSettings) -> tuple[str, float]:
    """Validate one scene's voice; answer its spoken text and its length in seconds."""
    check = _Checker(voice, where)
    kind = check.choice("type", ("text", "audio", "silence"), required=True)
    if kind == "text":
        voice_id = check.string("voice_id", required=True)
        if settings.strict_catalogue and voice_id not in catalogue.VOICE_IDS:
            raise Rejection(f"Voice {voice_id} not found", code="voice_not_found")
        text = check.string("input_text", required=True, max_length=MAX_INPUT_TEXT) or ""
        speed = check.number("speed", 0.5, 1.5) or 1.0
        check.number("pitch", -50, 50, integer=True)
        check.choice("emotion", EMOTIONS)
        check.string("locale")
        return text, max(1.0, len(text) / CHARACTERS_PER_SECOND / speed)
    if kind == "audio":
        check.exactly_one(("audio_url", "audio_asset_id"))
        return "", AUDIO_SCENE_SECONDS
    seconds = check.number("duration", 0.0, MAX_SILENCE_SECONDS)
    if seconds is None or seconds <= 0:
        raise Rejection(f"{check.name('duration')} is required and must be above 0 for a silence voice")
    return "", seconds


def _check_background(background: dict[str, Any], where: str) -> None:
    check = _Checker(background, where)
    kind = check.choice("type", ("color", "image", "video"), required=True)
    if kind == "color":
        value = check.string("value", required=True) or ""
        if not HEX_COLOUR.match(value):
            raise Rejection(f"{check.name('value')} must be a hex colour such as #008000; got {value!r}")
    elif kind == "image":
        check.exactly_one(("url", "image_asset_id"))
        check.choice("fit", BACKGROUND_FITS)
    else:
        check.exactly_one(("url", "video_asset_id"))
        check.choice("play_style", VIDEO_PLAY_STYLES)
        check.choice("fit", BACKGROUND_FITS)


def _check_dimension(dimension: dict[str, Any], settings: EmulatorSettings) -> None:
    check = _Checker(dimension, "dimension")
    sides = []
    for side in ("width", "height"):
        if dimension.get(side) is None:
            raise Rejection(f"dimension.{side} is required")
        value = int(check.number(side, 128, 4096, integer=True) or 0)
        if value % 2:
            raise Rejection(f"dimension.{side} must be an even number; got {value}")
        sides.append(value)
    limit = settings.limits.max_short_side
    if min(sides) > limit:
        raise Rejection(
            f"Resolution {sides[0]}x{sides[1]} is not available on the {settings.plan} plan (up to {limit}p)"
        )


def _check_common(check: _Checker) -> None:
    callback_url = check.string("callback_url")
    if callback_url is not None and not callback_url.startswith(("http://", "https://")):
        raise Rejection("callback_url must be an http or https URL")
    check.string("folder_id")


def validate_generate(body: object, settings: EmulatorSettings) -> RenderRequest:
    """Check a ``POST /v2/video/generate`` body as HeyGen does.

    :param body: the decoded JSON body.
    :param settings: the emulator settings (plan limits, strict catalogue).
    :raises Rejection: on the first problem found.
    """
    if not isinstance(body, dict):
        raise Rejection("Request body must be a JSON object")
    check = _Checker(body, "")
    scenes = body.get("video_inputs")
    if not isinstance(scenes, list) or not 1 <= len(scenes) <= MAX_SCENES:
        raise Rejection(f"video_inputs must be a list of 1 to {MAX_SCENES} scenes")
    texts: list[str] = []
    duration = 0.0
    for index, scene in enumerate(scenes):
        where = f"video_inputs[{index}]"
        if not isinstance(scene, dict):
            raise Rejection(f"{where} must be an object")
        scene_check = _Checker(scene, where)
        _check_character(scene_check.object("character", required=True) or {}, f"{where}.character", settings)
        text, seconds = _check_voice(scene_check.object("voice", required=True) or {}, f"{where}.voice", settings)
        background = scene_check.object("background")
        if background is not None:
            _check_background(background, f"{where}.background")
        texts.append(text)
        duration += seconds
    dimension = check.object("dimension")
    if dimension is not None:
        _check_dimension(dimension, settings)
    caption = check.boolean("caption")
    title = check.string("title")
    callback_id = check.string("callback_id")
    test = check.boolean("test")
    _check_common(check)
    return RenderRequest(
        script=" ".join(text for text in texts if text),
        duration_seconds=round(duration, 3),
        caption=caption,
        title=title,
        callback_id=callback_id,
        test=test,
        magic_text=f"{title or ''} {callback_id or ''}",
        look=_legacy_look(scenes[0]),
    )


def _legacy_look(scene: dict[str, Any]) -> VideoLook:
    # Called after validation: the scene's fields have the types checked above.
    character = scene["character"]
    background = scene.get("background") or {}
    return VideoLook(
        avatar_id=character.get("avatar_id") or character.get("talking_photo_id"),
        background_colour=background.get("value") if background.get("type") == "color" else None,
    )


def validate_avatar_iv(body: object, settings: EmulatorSettings) -> RenderRequest:
    """Check a ``POST /v2/video/av4/generate`` body (Avatar IV from a photo).

    :param body: the decoded JSON body.
    :param settings: the emulator settings (strict catalogue).
    :raises Rejection: on the first problem found.
    """
    if not isinstance(body, dict):
        raise Rejection("Request body must be a JSON object")
    check = _Checker(body, "")
    check.string("image_key", required=True)
    title = check.string("video_title", required=True)
    script = check.string("script", required=True, max_length=MAX_INPUT_TEXT) or ""
    voice_id = check.string("voice_id", required=True)
    if settings.strict_catalogue and voice_id not in catalogue.VOICE_IDS:
        raise Rejection(f"Voice {voice_id} not found", code="voice_not_found")
    check.string("custom_motion_prompt")
    check.boolean("enhance_custom_motion_prompt")
    check.choice("video_orientation", ORIENTATIONS)
    check.choice("fit", BACKGROUND_FITS)
    callback_id = check.string("callback_id")
    _check_common(check)
    return RenderRequest(
        script=script,
        duration_seconds=round(max(1.0, len(script) / CHARACTERS_PER_SECOND), 3),
        caption=check.boolean("caption"),
        title=title,
        callback_id=callback_id,
        test=check.boolean("test"),
        magic_text=f"{title or ''} {callback_id or ''}",
        look=VideoLook(photo_asset_id=body["image_key"]),
    )
