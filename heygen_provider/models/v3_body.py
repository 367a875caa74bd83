"""
The v3 translation: the spec's request (:class:`~heygen_provider.models.request.VideoGenerateRequest`)
as the body of HeyGen's ``POST /v3/videos``, following HeyGen's published schema (operation
``VideoCreate``).

* One scene becomes ``type: avatar`` (an avatar or a photo-avatar look) or ``type: image`` (Avatar IV
  from a photo); two or more become ``type: studio`` with one ``avatar_video`` scene each.
* ``dimension`` becomes exactly one ``resolution`` and ``aspect_ratio``.
* A spec field v3 cannot express is an error naming the field and saying it needs the legacy API:
  nothing is ever silently dropped.

A pure function: no HTTP, no Airflow. An ``image_path`` is uploaded by the hook before the create call,
which then translates the request with ``image_asset_id`` set.
"""

from __future__ import annotations

from typing import Any

from heygen_provider.exceptions import HeyGenRequestValidationError
from heygen_provider.models.request import Background, Character, VideoGenerateRequest, VideoInput, Voice

#: Short side in pixels of each v3 resolution, and the aspect ratios v3 renders.
V3_RESOLUTIONS = {720: "720p", 1080: "1080p", 2160: "4k"}
V3_ASPECT_RATIOS = {(16, 9): "16:9", (9, 16): "9:16", (1, 1): "1:1", (4, 5): "4:5", (5, 4): "5:4"}


def v3_sizes() -> dict[tuple[int, int], tuple[str, str]]:
    """Every ``{width, height}`` v3 can make, with its ``(resolution, aspect_ratio)``."""
    sizes: dict[tuple[int, int], tuple[str, str]] = {}
    for short_side, resolution in V3_RESOLUTIONS.items():
        for (across, down), ratio in V3_ASPECT_RATIOS.items():
            unit = short_side / min(across, down)
            sizes[(round(across * unit), round(down * unit))] = (resolution, ratio)
    return sizes


V3_SIZES = v3_sizes()
_LEGACY = "needs api_version 'legacy'"


def to_v3_body(request: VideoGenerateRequest) -> dict[str, Any]:
    """
    The ``POST /v3/videos`` body of ``request``.

    :raises HeyGenRequestValidationError: naming every field v3 cannot express, before any HTTP call.
    """
    translation = _Translation()
    body = translation.body(request)
    if translation.problems:
        raise HeyGenRequestValidationError(translation.problems)
    return body


class _Translation:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def refuse(self, path: str, value: Any, rule: str = _LEGACY) -> None:
        self.problems.append(f"{path}: {rule} (got {value!r})")

    def body(self, request: VideoGenerateRequest) -> dict[str, Any]:
        if request.test:
            self.refuse("test", request.test, f"{_LEGACY} (v3 has no test renders)")
        if request.folder_id is not None:
            self.refuse("folder_id", request.folder_id, f"{_LEGACY} (v3 has no folder_id on create)")
        body: dict[str, Any]
        if len(request.video_inputs) == 1:
            body = self.single_scene(request, request.video_inputs[0])
        else:
            body = self.studio(request)
        body.update(self.output(request))
        if request.title:
            body["title"] = request.title
        for name in ("callback_id", "callback_url"):
            if getattr(request, name) is not None:
                body[name] = getattr(request, name)
        if request.caption:
            # The spec's caption means captions on the video (legacy makes a captioned copy beside the SRT).
            # v3 returns only the SRT unless style is set; "default" adds captioned_video_url.
            body["caption"] = {"file_format": "srt", "style": "default"}
        body.update(request.extra_fields)
        return body

    # -- one scene ------------------------------------------------------------------------------------

    def single_scene(self, request: VideoGenerateRequest, scene: VideoInput) -> dict[str, Any]:
        where = "video_inputs[0]"
        body = self.source(scene.character, f"{where}.character")
        body.update(self.speech(scene.voice, f"{where}.voice"))
        body.update(self.animation(request, scene.character, f"{where}.character"))
        if scene.background is not None:
            body["background"] = self.background(scene.background, f"{where}.background", single=True)
            if request.output_format == "webm":
                self.refuse(f"{where}.background", scene.background.type, "is not allowed with output_format 'webm'")
        for name in ("output_format", "remove_background", "fit"):
            if getattr(request, name) is not None:
                body[name] = getattr(request, name)
        return body

    # -- several scenes -------------------------------------------------------------------------------

    def studio(self, request: VideoGenerateRequest) -> dict[str, Any]:
        for name in ("output_format", "remove_background", "fit"):
            if getattr(request, name) is not None:
                self.refuse(name, getattr(request, name), "is not available for multi-scene (studio) videos on v3")
        scenes = []
        for index, scene in enumerate(request.video_inputs):
            where = f"video_inputs[{index}]"
            scene_input = self.source(scene.character, f"{where}.character")
            scene_input.update(self.speech(scene.voice, f"{where}.voice"))
            scene_input.update(self.animation(request, scene.character, f"{where}.character"))
            if scene.background is not None:
                scene_input["background"] = self.background(scene.background, f"{where}.background", single=False)
            scenes.append({"type": "avatar_video", "input": scene_input})
        return {"type": "studio", "scenes": scenes}

    # -- parts ----------------------------------------------------------------------------------------

    def source(self, character: Character, where: str) -> dict[str, Any]:
        for name, default in (("avatar_style", "normal"), ("scale", 1.0), ("talking_style", None)):
            value = getattr(character, name)
            if value is not None and value != default:
                self.refuse(f"{where}.{name}", value, f"{_LEGACY} (on v3 HeyGen owns the layout)")
        if character.offset is not None and (character.offset.x, character.offset.y) != (0.0, 0.0):
            self.refuse(f"{where}.offset", character.offset.model_dump(), f"{_LEGACY} (on v3 HeyGen owns the layout)")
        for name in ("expression", "matting", "super_resolution"):
            if getattr(character, name) is not None:
                self.refuse(f"{where}.{name}", getattr(character, name))
        if character.use_avatar_iv_model is False:
            self.refuse(f"{where}.use_avatar_iv_model", False, f"{_LEGACY} (v3 chooses the engine with 'engine')")
        part: dict[str, Any]
        if character.type == "image":
            part = {"type": "image", "image": self.image(character, where)}
        else:
            look_id = character.avatar_id if character.type == "avatar" else character.talking_photo_id
            part = {"type": "avatar", "avatar_id": look_id}
        part.update(character.extra_fields)
        return part

    def image(self, character: Character, where: str) -> dict[str, Any]:
        if character.image_url is not None:
            return {"type": "url", "url": character.image_url}
        if character.image_asset_id is not None:
            return {"type": "asset_id", "asset_id": character.image_asset_id}
        # An image_path is uploaded by the hook before the create call; translated before that (to check a
        # request before any call), it stands as the asset it will become.
        return {"type": "asset_id", "asset_id": f"upload:{character.image_path}"}

    def speech(self, voice: Voice, where: str) -> dict[str, Any]:
        part: dict[str, Any] = {}
        if voice.type == "silence":
            self.refuse(f"{where}.type", "silence", f"{_LEGACY} (v3 has no silent scenes)")
        if voice.emotion is not None:
            self.refuse(f"{where}.emotion", voice.emotion, f"{_LEGACY} (v3 has no voice emotion)")
        if voice.type == "text":
            part["script"] = voice.input_text
            part["voice_id"] = voice.voice_id
        elif voice.type == "audio":
            if voice.audio_url is not None:
                part["audio_url"] = voice.audio_url
            else:
                part["audio_asset_id"] = voice.audio_asset_id
        settings = {
            name: getattr(voice, name)
            for name in ("speed", "pitch", "locale", "volume")
            if getattr(voice, name) is not None
        }
        if settings:
            part["voice_settings"] = settings
        part.update(voice.extra_fields)
        return part

    def animation(self, request: VideoGenerateRequest, character: Character, where: str) -> dict[str, Any]:
        part: dict[str, Any] = {}
        if request.engine is not None:
            if character.type == "image":
                self.refuse("engine", request.engine, "is not available for a character of type 'image' on v3")
            else:
                part["engine"] = {"type": request.engine}
        if request.motion_prompt is not None:
            if request.engine == "avatar_iii":
                self.refuse("motion_prompt", request.motion_prompt, "is not supported with engine 'avatar_iii'")
            part["motion_prompt"] = request.motion_prompt
        if request.expressiveness is not None:
            if request.engine in ("avatar_iii", "avatar_v"):
                self.refuse(
                    "expressiveness", request.expressiveness, f"is not supported with engine {request.engine!r}"
                )
            part["expressiveness"] = request.expressiveness
        return part

    def background(self, background: Background, where: str, *, single: bool) -> dict[str, Any]:
        if background.type == "color":
            key = "value" if single else "color"
            return {"type": "color", key: background.value, **background.extra_fields}
        if background.type == "video" or not single:
            rule = f"{_LEGACY} (v3 has no video backgrounds)"
            if background.type == "image":
                rule = f"{_LEGACY} (scenes of a multi-scene v3 video take colour backgrounds only)"
            self.refuse(f"{where}.type", background.type, rule)
            return {}
        for name in ("fit", "play_style"):
            if getattr(background, name) is not None:
                self.refuse(f"{where}.{name}", getattr(background, name))
        if background.url is not None:
            return {"type": "image", "url": background.url, **background.extra_fields}
        return {"type": "image", "asset_id": background.image_asset_id, **background.extra_fields}

    def output(self, request: VideoGenerateRequest) -> dict[str, Any]:
        if request.resolution is not None or request.aspect_ratio is not None:
            return {
                name: getattr(request, name)
                for name in ("resolution", "aspect_ratio")
                if getattr(request, name) is not None
            }
        size = (request.dimension.width, request.dimension.height)
        if size not in V3_SIZES:
            known = ", ".join(f"{width}x{height}" for width, height in sorted(V3_SIZES))
            self.refuse(
                "dimension",
                {"width": size[0], "height": size[1]},
                f"v3 makes only these sizes: {known} (or give resolution and aspect_ratio)",
            )
            return {}
        resolution, aspect_ratio = V3_SIZES[size]
        return {"resolution": resolution, "aspect_ratio": aspect_ratio}
