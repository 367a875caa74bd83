"""
The video request: the product spec's schema and every rule it states, plus HeyGen v3's own options.

Build one with :meth:`VideoGenerateRequest.from_params` (what the operator does after templating) to get
the provider's :class:`~heygen_provider.exceptions.HeyGenRequestValidationError`, which lists every bad
field by path and rule. The connection's API version turns it into the body it sends:
:func:`heygen_provider.models.v3_body.to_v3_body` for ``POST /v3/videos`` (the default) and
:meth:`VideoGenerateRequest.to_legacy_body` for the legacy ``POST /v2/video/generate``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from typing_extensions import Self

from heygen_provider.exceptions import HeyGenRequestValidationError
from heygen_provider.models.base import (
    RequestModel,
    check_http_url,
    conditional_error,
    raise_for_validation,
    range_error,
)
from heygen_provider.vocabulary import V3_OPTIONS

MAX_SCENES = 50
MAX_INPUT_TEXT_LENGTH = 5000
MIN_DIMENSION = 128
MAX_DIMENSION = 4096

#: Named resolutions. 4K renders only on HeyGen's Scale and Enterprise plans.
DIMENSION_PRESETS: dict[str, tuple[int, int]] = {
    "720p": (1280, 720),
    "1080p": (1920, 1080),
    "4K": (3840, 2160),
}

Emotion = Literal["Excited", "Friendly", "Serious", "Soothing", "Broadcaster"]
NonEmptyString = Annotated[str, Field(min_length=1)]
HttpUrl = Annotated[str, AfterValidator(check_http_url)]


def _within(low: float, high: float) -> AfterValidator:
    def check(value: float) -> float:
        if not low <= value <= high:
            raise range_error(low, high)
        return value

    return AfterValidator(check)


def _no_bool(value: Any) -> Any:
    # pydantic's lax mode reads True as 1; a boolean where a number belongs is a mistake.
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


def _check_hex_colour(value: str) -> str:
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
        raise PydanticCustomError("hex_colour", "must be a hex colour such as #FAFAFA")
    return value


Number = Annotated[float, BeforeValidator(_no_bool), Field(allow_inf_nan=False)]


def _required_when(*types: str, hint: str = "") -> Any:
    """
    A field validator making a field required when the object's ``type`` is one of ``types``.

    A field validator, not a model validator, because pydantic runs it even when other fields of the
    object failed, so one pass reports every missing field. ``type`` is declared first, so it is
    validated (and in ``info.data``) by the time these run; the fields set ``validate_default`` so that
    an absent field is checked too.
    """

    def check(value: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("type")
        if value is None and kind in types:
            raise PydanticCustomError("conditional", "is required when type is '{type}'" + hint, {"type": kind})
        return value

    return check


class Offset(RequestModel):
    """Position offset of the avatar in the frame."""

    x: Number = 0.0
    y: Number = 0.0


class Character(RequestModel):
    """
    ``video_inputs[].character``: who appears in the scene.

    ``type`` ``avatar`` needs ``avatar_id``; ``talking_photo`` needs ``talking_photo_id`` (on v3, a
    photo-avatar look id); ``image`` (Avatar IV from any photo, v3 only) needs exactly one of
    ``image_url``, ``image_asset_id`` and ``image_path`` (a local path or any ``ObjectStoragePath`` URI,
    uploaded to HeyGen first).
    """

    type: Literal["avatar", "talking_photo", "image"]
    avatar_id: NonEmptyString | None = Field(default=None, validate_default=True)
    talking_photo_id: NonEmptyString | None = Field(default=None, validate_default=True)
    image_url: HttpUrl | None = None
    image_asset_id: NonEmptyString | None = None
    image_path: NonEmptyString | None = None
    avatar_style: Literal["normal", "circle", "closeUp"] | None = None
    scale: Annotated[Number, _within(0.0, 5.0)] | None = None
    offset: Offset | None = None
    talking_style: Literal["stable", "expressive"] | None = None
    expression: Literal["default", "happy"] | None = None
    matting: bool | None = None
    super_resolution: bool | None = None
    #: Render a photo avatar with the Avatar IV model.
    use_avatar_iv_model: bool | None = None

    _avatar_id_required = field_validator("avatar_id")(_required_when("avatar"))
    _talking_photo_id_required = field_validator("talking_photo_id")(_required_when("talking_photo"))

    @model_validator(mode="after")
    def _one_image_source(self) -> Self:
        sources = [self.image_url, self.image_asset_id, self.image_path]
        if self.type == "image" and sum(source is not None for source in sources) != 1:
            raise conditional_error(
                "image_url", "exactly one of image_url, image_asset_id and image_path is required when type is 'image'"
            )
        if self.type != "image" and any(source is not None for source in sources):
            raise conditional_error("image_url", "image_url, image_asset_id and image_path need type 'image'")
        return self


class Voice(RequestModel):
    """
    ``video_inputs[].voice``: what the character says.

    ``text`` needs ``voice_id`` and ``input_text`` (at most 5000 characters); ``audio`` needs exactly one of
    ``audio_url`` and ``audio_asset_id``; ``silence`` takes a ``duration`` in seconds.
    """

    type: Literal["text", "audio", "silence"]
    input_text: Annotated[str, Field(min_length=1, max_length=MAX_INPUT_TEXT_LENGTH)] | None = Field(
        default=None, validate_default=True
    )
    voice_id: NonEmptyString | None = Field(default=None, validate_default=True)
    speed: Annotated[Number, _within(0.5, 1.5)] | None = None
    pitch: Annotated[StrictInt, _within(-50, 50)] | None = None
    emotion: Emotion | None = None
    locale: NonEmptyString | None = None
    #: v3 only: the voice's volume, 0 (silent) to 1 (full).
    volume: Annotated[Number, _within(0.0, 1.0)] | None = None
    audio_url: HttpUrl | None = None
    audio_asset_id: NonEmptyString | None = None
    duration: Annotated[Number, Field(gt=0)] | None = Field(default=None, validate_default=True)

    _text_fields_required = field_validator("input_text", "voice_id")(_required_when("text"))
    _duration_required = field_validator("duration")(_required_when("silence"))

    @model_validator(mode="after")
    def _one_audio_source(self) -> Self:
        if self.type == "audio" and (self.audio_url is None) == (self.audio_asset_id is None):
            raise conditional_error(
                "audio_url", "exactly one of audio_url and audio_asset_id is required when type is 'audio'"
            )
        return self


class Background(RequestModel):
    """
    ``video_inputs[].background`` (optional): a ``color`` (hex ``value``), an ``image`` or a ``video``
    (exactly one of ``url`` and the asset id).
    """

    type: Literal["color", "image", "video"]
    value: Annotated[str, AfterValidator(_check_hex_colour)] | None = Field(default=None, validate_default=True)
    url: HttpUrl | None = None
    image_asset_id: NonEmptyString | None = None
    video_asset_id: NonEmptyString | None = None
    fit: Literal["cover", "crop", "contain", "none"] | None = None
    play_style: Literal["fit_to_scene", "freeze", "loop", "once"] | None = None

    _colour_required = field_validator("value")(_required_when("color", hint=" (a hex colour like #FAFAFA)"))

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.type == "color":
            return self
        asset_field = f"{self.type}_asset_id"
        if (self.url is None) == (getattr(self, asset_field) is None):
            raise conditional_error(
                "url", f"exactly one of url and {asset_field} is required when type is '{self.type}'"
            )
        return self


class VideoInput(RequestModel):
    """One scene of the video."""

    character: Character
    voice: Voice
    background: Background | None = None


def _check_dimension_side(value: int) -> int:
    if not MIN_DIMENSION <= value <= MAX_DIMENSION or value % 2:
        raise PydanticCustomError(
            "dimension_side",
            "must be an even number of pixels between {low} and {high}",
            {"low": MIN_DIMENSION, "high": MAX_DIMENSION},
        )
    return value


DimensionSide = Annotated[StrictInt, AfterValidator(_check_dimension_side)]


class Dimension(RequestModel):
    """Output resolution in pixels; each side even and between 128 and 4096."""

    width: DimensionSide
    height: DimensionSide


def _dimension_from_preset(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    for name, (width, height) in DIMENSION_PRESETS.items():
        if value.strip().lower() == name.lower():
            return {"width": width, "height": height}
    names = ", ".join(repr(name) for name in DIMENSION_PRESETS)
    raise ValueError(f"must be one of {names} or an object {{width, height}}")


class VideoGenerateRequest(RequestModel):
    """
    The body of ``POST /v2/video/generate``.

    :param video_inputs: 1 to 50 scenes.
    :param dimension: resolution; a preset name (``"720p"``, ``"1080p"``, ``"4K"``) or ``{width, height}``.
        Default 1280x720. 4K needs HeyGen's Scale or Enterprise plan.
    :param caption: ask HeyGen for captions.
    :param title: a title shown in HeyGen's web app.
    :param callback_id: your own id, echoed back in status answers and webhooks.
    :param callback_url: a URL HeyGen calls when the render ends.
    :param test: a free, watermarked test render (legacy API only).
    :param folder_id: the HeyGen folder to file the video in (legacy API only).
    :param engine: v3: ``avatar_iv`` (HeyGen's default), ``avatar_v`` or ``avatar_iii``.
    :param motion_prompt: v3: body motion and gestures, in words (photo avatars, or ``avatar_v``).
    :param expressiveness: v3: ``high``, ``medium`` or ``low`` (photo avatars).
    :param aspect_ratio: v3: instead of ``dimension``, with ``resolution``.
    :param resolution: v3: ``720p``, ``1080p`` or ``4k``, instead of ``dimension``.
    :param output_format: v3: ``mp4`` or ``webm`` (transparent background, no ``background``).
    :param remove_background: v3: remove the avatar's background.
    :param fit: v3: ``contain`` or ``cover``, how the subject fits the frame.
    """

    video_inputs: Annotated[list[VideoInput], Field(min_length=1, max_length=MAX_SCENES)]
    dimension: Annotated[Dimension, BeforeValidator(_dimension_from_preset)] = Field(
        default_factory=lambda: Dimension(width=1280, height=720)
    )
    caption: bool = False
    title: str = ""
    callback_id: NonEmptyString | None = None
    callback_url: HttpUrl | None = None
    test: bool | None = None
    folder_id: NonEmptyString | None = None
    engine: Literal["avatar_iv", "avatar_v", "avatar_iii"] | None = None
    motion_prompt: NonEmptyString | None = None
    expressiveness: Literal["high", "medium", "low"] | None = None
    aspect_ratio: Literal["16:9", "9:16", "4:5", "5:4", "1:1", "auto"] | None = None
    resolution: Literal["4k", "1080p", "720p"] | None = None
    output_format: Literal["mp4", "webm"] | None = None
    remove_background: bool | None = None
    fit: Literal["contain", "cover"] | None = None

    @model_validator(mode="after")
    def _dimension_or_resolution(self) -> Self:
        if "dimension" in self.model_fields_set and (self.resolution or self.aspect_ratio):
            raise conditional_error("dimension", "give either dimension or resolution and aspect_ratio, not both")
        return self

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> VideoGenerateRequest:
        """
        Validate request parameters, e.g. an operator's rendered template fields.

        Parameters whose value is ``None`` are left to their defaults.

        :raises HeyGenRequestValidationError: listing every bad field by path and rule.
        """
        try:
            return cls.model_validate({key: value for key, value in params.items() if value is not None})
        except ValidationError as error:
            raise raise_for_validation(error) from None

    def to_payload(self) -> dict[str, Any]:
        """
        The whole request as JSON, whatever the API version: fields left unset are omitted,
        ``extra_fields`` merged in. What the submission record fingerprints.
        """
        return self.model_dump(mode="json", exclude_none=True)

    def to_legacy_body(self) -> dict[str, Any]:
        """
        The body of the legacy ``POST /v2/video/generate``.

        :raises HeyGenRequestValidationError: naming each field only v3 can express.
        """
        problems = [
            f"{path}: needs api_version 'v3' (the legacy API has no {name}) (got {value!r})"
            for path, name, value in self._v3_only_fields()
        ]
        if problems:
            raise HeyGenRequestValidationError(problems)
        return self.to_payload()

    def _v3_only_fields(self) -> list[tuple[str, str, Any]]:
        found = [(name, name, getattr(self, name)) for name in V3_OPTIONS if getattr(self, name) is not None]
        for index, scene in enumerate(self.video_inputs):
            if scene.character.type == "image":
                found.append((f"video_inputs[{index}].character.type", "character type 'image'", "image"))
            if scene.voice.volume is not None:
                found.append((f"video_inputs[{index}].voice.volume", "voice volume", scene.voice.volume))
        return found
