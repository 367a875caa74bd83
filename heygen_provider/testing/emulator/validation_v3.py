"""Validation of ``POST /v3/videos`` bodies: HeyGen's published schema, then the rules its text states.

The schema (``VideoCreate`` in ``schemas/heygen_v3.json``) fixes the shape: the ``type`` union, field
types and enumerations. The rules HeyGen states only in the schema's descriptions are checked here:
at most 5,000 characters of script, exactly one of ``script`` / ``audio_url`` / ``audio_asset_id``,
``voice_id`` with a script unless the avatar has a default voice, the ranges of ``voice_settings``,
no ``background`` with ``webm``, 1 to 50 studio scenes, no ``engine`` for ``type: image``, and so on.
Like :mod:`~heygen_provider.testing.emulator.validation`, it is written from HeyGen's documents, not
from the provider's models.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from heygen_provider.testing.emulator import catalogue, schema
from heygen_provider.testing.emulator.settings import EmulatorSettings
from heygen_provider.testing.emulator.validation import (
    AUDIO_SCENE_SECONDS,
    CHARACTERS_PER_SECOND,
    HEX_COLOUR,
    MAX_INPUT_TEXT,
    MAX_SCENES,
    Rejection,
    RenderRequest,
    VideoLook,
)

OPERATION = "VideoCreate"
SPEECH_SOURCES = ("script", "audio_url", "audio_asset_id")
MAX_IMAGE_BYTES = 50 * 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg")
VIDEO_SCENE_SECONDS = 10.0
MAX_STILL_SECONDS = 300.0
CINEMATIC_SECONDS = (4, 15)
CINEMATIC_DEFAULT_SECONDS = 10
CINEMATIC_ASPECT_RATIOS = ("16:9", "9:16", "1:1")
MAX_CINEMATIC_AVATARS = 3
#: The short side of each v3 ``resolution``, compared with the plan's limit.
RESOLUTION_SHORT_SIDES = {"720p": 720, "1080p": 1080, "4k": 2160}
VOICE_RANGES = (("speed", 0.5, 1.5), ("pitch", -50.0, 50.0), ("volume", 0.0, 1.0))

#: Checks that an asset id names an uploaded asset of a kind (``image``, ``audio``, ...); only
#: consulted with ``strict_catalogue``.
AssetCheck = Callable[[str, str], bool]


def _path(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _present(obj: dict[str, Any], key: str) -> bool:
    return obj.get(key) not in (None, "")


class _Create:
    """One create body being checked; ``where`` arguments are field paths such as ``scenes[2].input``."""

    def __init__(self, settings: EmulatorSettings, asset_exists: AssetCheck) -> None:
        self.settings = settings
        self.asset_exists = asset_exists
        self.scripts: list[str] = []

    def asset(self, asset_id: object, kind: str, param: str) -> None:
        if self.settings.strict_catalogue and isinstance(asset_id, str) and not self.asset_exists(asset_id, kind):
            raise Rejection(f"Asset {asset_id} not found or not an {kind} asset", param=param)

    def avatar(self, avatar_id: str, param: str) -> bool:
        """Check an avatar (look) id; answer whether it has a default voice."""
        if avatar_id in catalogue.AVATAR_IDS:
            return True
        if avatar_id in catalogue.TALKING_PHOTO_IDS:
            return False
        if self.settings.strict_catalogue:
            raise Rejection(f"Avatar {avatar_id} not found or no longer available", param=param)
        # A custom avatar the emulator cannot know: assume it was trained with a voice.
        return True

    def speech(self, obj: dict[str, Any], where: str, default_voice: bool) -> float:
        """Check the script or audio of one speaker; answer its length in seconds."""
        given = [key for key in SPEECH_SOURCES if _present(obj, key)]
        if not given:
            raise Rejection(
                f"exactly one of script, audio_url or audio_asset_id is required in {where or 'the body'}",
                param=_path(where, "script"),
            )
        if len(given) > 1:
            raise Rejection(
                f"{_path(where, given[0])} and {given[1]} are mutually exclusive", param=_path(where, given[1])
            )
        self.voice_settings(obj.get("voice_settings"), _path(where, "voice_settings"))
        if given[0] == "audio_url":
            self.url(obj["audio_url"], _path(where, "audio_url"))
            return AUDIO_SCENE_SECONDS
        if given[0] == "audio_asset_id":
            self.asset(obj["audio_asset_id"], "audio", _path(where, "audio_asset_id"))
            return AUDIO_SCENE_SECONDS
        script: str = obj["script"]
        if not script.strip():
            raise Rejection(f"{_path(where, 'script')} must not be empty", param=_path(where, "script"))
        if len(script) > MAX_INPUT_TEXT:
            raise Rejection(
                f"{_path(where, 'script')} must be at most {MAX_INPUT_TEXT} characters, got {len(script)}",
                param=_path(where, "script"),
            )
        voice_id = obj.get("voice_id")
        if not voice_id and not default_voice:
            raise Rejection(f"{_path(where, 'voice_id')} is required with a script", param=_path(where, "voice_id"))
        if voice_id and self.settings.strict_catalogue and voice_id not in catalogue.VOICE_IDS:
            raise Rejection(f"Voice {voice_id} not found", param=_path(where, "voice_id"))
        self.scripts.append(script)
        speed = (obj.get("voice_settings") or {}).get("speed") or 1.0
        return max(1.0, len(script) / CHARACTERS_PER_SECOND / speed)

    def voice_settings(self, settings: dict[str, Any] | None, where: str) -> None:
        for key, low, high in VOICE_RANGES:
            value = (settings or {}).get(key)
            if value is not None and not low <= value <= high:
                raise Rejection(
                    f"{where}.{key} must be between {low:g} and {high:g}; got {value}", param=f"{where}.{key}"
                )

    def url(self, url: str, param: str) -> None:
        if not url.startswith(("https://", "http://")):
            raise Rejection(f"{param} must be an http or https URL", param=param)

    def image(self, image: dict[str, Any], where: str) -> None:
        """An asset input (``{type: url|asset_id|base64}``) that must hold a JPG or PNG image."""
        kind = image["type"]
        if kind == "url":
            self.url(image["url"], f"{where}.url")
        elif kind == "asset_id":
            self.asset(image["asset_id"], "image", f"{where}.asset_id")
        else:
            if image["media_type"] not in IMAGE_TYPES:
                raise Rejection(f"{where}.media_type must be image/png or image/jpeg", param=f"{where}.media_type")
            try:
                data = base64.b64decode(image["data"], validate=True)
            except (binascii.Error, ValueError):
                raise Rejection(f"{where}.data is not valid base64", param=f"{where}.data") from None
            if len(data) > MAX_IMAGE_BYTES:
                raise Rejection(f"{where}.data is larger than 50 MB", param=f"{where}.data")

    def engine(self, body: dict[str, Any], where: str, avatar_id: str | None) -> None:
        engine = (body.get("engine") or {}).get("type")
        if engine == "avatar_iii" and _present(body, "motion_prompt"):
            raise Rejection(
                "motion_prompt is not supported with the avatar_iii engine", param=_path(where, "motion_prompt")
            )
        if engine in ("avatar_iii", "avatar_v") and _present(body, "expressiveness"):
            raise Rejection(
                f"expressiveness is not supported with the {engine} engine", param=_path(where, "expressiveness")
            )
        video_avatar = avatar_id in catalogue.AVATAR_IDS
        if video_avatar and engine in (None, "avatar_iv") and _present(body, "motion_prompt"):
            raise Rejection(
                "motion_prompt needs engine avatar_v for a video avatar", param=_path(where, "motion_prompt")
            )

    def background(self, body: dict[str, Any]) -> None:
        background = body.get("background")
        if background is None:
            return
        if body.get("output_format") == "webm":
            raise Rejection("background cannot be set when output_format is webm", param="background")
        if background["type"] == "color":
            value = background.get("value")
            if not isinstance(value, str) or not HEX_COLOUR.match(value):
                raise Rejection(
                    f"background.value must be a hex colour such as #008000; got {value!r}", param="background.value"
                )
            return
        given = [key for key in ("url", "asset_id") if _present(background, key)]
        if len(given) != 1:
            raise Rejection("background needs exactly one of url or asset_id", param="background.url")
        if given[0] == "url":
            self.url(background["url"], "background.url")
        else:
            self.asset(background["asset_id"], "image", "background.asset_id")

    def output(self, body: dict[str, Any]) -> None:
        resolution = body.get("resolution")
        limit = self.settings.limits.max_short_side
        if resolution is not None and RESOLUTION_SHORT_SIDES.get(resolution, 0) > limit:
            raise Rejection(
                f"Resolution {resolution} is not available on the {self.settings.plan} plan (up to {limit}p)",
                param="resolution",
            )
        if _present(body, "callback_url"):
            self.url(body["callback_url"], "callback_url")

    # The four kinds of video --------------------------------------------------------------------

    def single(self, body: dict[str, Any]) -> float:
        """``type: avatar`` or ``type: image``: one speaker for the whole video."""
        if body["type"] == "image":
            if body.get("engine") is not None:
                raise Rejection("engine is not supported for type image", param="engine")
            self.image(body["image"], "image")
            default_voice, avatar_id = False, None
        else:
            avatar_id = body["avatar_id"]
            default_voice = self.avatar(avatar_id, "avatar_id")
        self.engine(body, "", avatar_id)
        self.background(body)
        return self.speech(body, "", default_voice)

    def studio(self, body: dict[str, Any]) -> float:
        scenes: list[dict[str, Any]] = body["scenes"]
        if not 1 <= len(scenes) <= MAX_SCENES:
            raise Rejection(f"scenes must hold 1 to {MAX_SCENES} scenes; got {len(scenes)}", param="scenes")
        return sum(self.scene(scene, f"scenes[{index}]") for index, scene in enumerate(scenes))

    def scene(self, scene: dict[str, Any], where: str) -> float:
        if scene["type"] == "video":
            playback = scene.get("playback") or {}
            volume = playback.get("volume")
            if volume is not None and not 0 <= volume <= 1:
                raise Rejection(f"{where}.playback.volume must be between 0 and 1", param=f"{where}.playback.volume")
            return VIDEO_SCENE_SECONDS
        if scene["type"] == "image":
            self.image(scene["source"], f"{where}.source")
            narrated = any(_present(scene, key) for key in SPEECH_SOURCES)
            duration = scene.get("duration")
            if duration is not None and narrated:
                raise Rejection(
                    f"{where}.duration and an audio source are mutually exclusive", param=f"{where}.duration"
                )
            if not narrated:
                if duration is None or not 0 < duration <= MAX_STILL_SECONDS:
                    raise Rejection(
                        f"{where}.duration must be above 0 and at most 300 for a silent image scene",
                        param=f"{where}.duration",
                    )
                return float(duration)
            return self.speech(scene, where, default_voice=False)
        source: dict[str, Any] = scene["input"]
        inner = f"{where}.input"
        if source["type"] == "image":
            self.image(source["image"], f"{inner}.image")
            default_voice, avatar_id = False, None
        else:
            avatar_id = source["avatar_id"]
            default_voice = self.avatar(avatar_id, f"{inner}.avatar_id")
            background = source.get("background")
            if background is not None and not HEX_COLOUR.match(background["color"]):
                raise Rejection(
                    f"{inner}.background.color must be a 6-digit hex colour such as #1a2b3c",
                    param=f"{inner}.background.color",
                )
            self.engine(source, inner, avatar_id)
        return self.speech(source, inner, default_voice)

    def cinematic(self, body: dict[str, Any]) -> float:
        avatars: list[str] = body["avatar_id"]
        if not 1 <= len(avatars) <= MAX_CINEMATIC_AVATARS:
            raise Rejection(f"avatar_id must list 1 to {MAX_CINEMATIC_AVATARS} look ids", param="avatar_id")
        for index, avatar_id in enumerate(avatars):
            self.avatar(avatar_id, f"avatar_id[{index}]")
        if not body["prompt"].strip():
            raise Rejection("prompt must not be empty", param="prompt")
        if body.get("aspect_ratio", "16:9") not in CINEMATIC_ASPECT_RATIOS:
            raise Rejection("aspect_ratio must be 16:9, 9:16 or 1:1 for cinematic_avatar", param="aspect_ratio")
        duration = body.get("duration")
        if duration is not None and body.get("auto_duration"):
            raise Rejection("duration must be omitted when auto_duration is true", param="duration")
        low, high = CINEMATIC_SECONDS
        if duration is not None and not low <= duration <= high:
            raise Rejection(f"duration must be between {low} and {high} seconds; got {duration}", param="duration")
        self.scripts.append(body["prompt"])
        return float(duration or CINEMATIC_DEFAULT_SECONDS)


def validate_create_v3(body: object, settings: EmulatorSettings, asset_exists: AssetCheck) -> RenderRequest:
    """Check a ``POST /v3/videos`` body as HeyGen does.

    :param body: the decoded JSON body.
    :param settings: the emulator settings (plan limits, strict catalogue).
    :param asset_exists: tells whether an asset id names an uploaded asset of a kind.
    :raises Rejection: on the first problem found, with ``param`` naming the field.
    """
    problem = schema.request_problem(OPERATION, body)
    if problem is not None:
        raise Rejection(problem.message, param=problem.param)
    assert isinstance(body, dict)  # the schema's discriminator requires an object
    check = _Create(settings, asset_exists)
    kind = body["type"]
    if kind == "studio":
        seconds = check.studio(body)
    elif kind == "cinematic_avatar":
        seconds = check.cinematic(body)
    else:
        seconds = check.single(body)
    check.output(body)
    caption = body.get("caption")
    title, callback_id = body.get("title"), body.get("callback_id")
    return RenderRequest(
        script=" ".join(check.scripts) if kind != "cinematic_avatar" else "",
        duration_seconds=round(seconds, 3),
        caption=caption is not None,
        title=title,
        callback_id=callback_id,
        test=False,
        magic_text=f"{title or ''} {callback_id or ''}",
        output_format=body.get("output_format") or "mp4",
        burned_captions=caption is not None and caption.get("style") is not None,
        look=_look(body),
    )


def _look(body: dict[str, Any]) -> VideoLook:
    """What the video's first scene shows; called once the body is valid, so its fields have their types."""
    kind = body["type"]
    if kind == "cinematic_avatar":
        return VideoLook(avatar_id=body["avatar_id"][0])
    if kind == "studio":
        scene = body["scenes"][0]
        if scene["type"] == "video":
            return VideoLook()
        if scene["type"] == "image":
            return _image_look(scene["source"])
        source = scene["input"]
        if source["type"] == "image":
            return _image_look(source["image"])
        colour = (source.get("background") or {}).get("color")
        return VideoLook(avatar_id=source["avatar_id"], background_colour=colour)
    background = body.get("background") or {}
    colour = background.get("value") if background.get("type") == "color" else None
    if kind == "image":
        return replace(_image_look(body["image"]), background_colour=colour)
    return VideoLook(avatar_id=body["avatar_id"], background_colour=colour)


def _image_look(image: dict[str, Any]) -> VideoLook:
    """The photo of an asset input (``{type: url|asset_id|base64}``)."""
    if image["type"] == "url":
        return VideoLook(photo_url=image["url"])
    if image["type"] == "asset_id":
        return VideoLook(photo_asset_id=image["asset_id"])
    return VideoLook(photo_data=base64.b64decode(image["data"]))
