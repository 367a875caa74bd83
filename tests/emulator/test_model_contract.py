"""
The request models and the emulator's validation agree: every value a model enumerates (a ``Literal``
field) is accepted by the emulator, and the emulator refuses what the models refuse.

The two are written independently on purpose (the emulator checks as HeyGen does, the models as the
spec and HeyGen's docs say); this test keeps them from drifting apart.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

import pytest

from heygen_provider.exceptions import HeyGenRequestValidationError
from heygen_provider.models import Background, Character, VideoGenerateRequest, Voice
from heygen_provider.testing.emulator import EmulatorSettings
from heygen_provider.testing.emulator.validation import Rejection, validate_generate

SETTINGS = EmulatorSettings(strict_catalogue=False)

#: The smallest valid part of a scene for each model and ``type``, which the enumerated value is set on.
BASE: dict[str, dict[str, Any]] = {
    "character": {"type": "avatar", "avatar_id": "Daisy-inskirt-20220818"},
    "voice": {"type": "text", "input_text": "Contract.", "voice_id": "2d5b0e6cf36f460aa7fc47e3eee4ba54"},
    "background": {"type": "video", "url": "https://files.example/background.mp4"},
}
SOURCES = {"character": Character, "voice": Voice, "background": Background}
#: Fields that need a companion field to be valid, per enumerated value.
COMPANIONS: dict[tuple[str, str, str], dict[str, Any]] = {
    ("character", "type", "talking_photo"): {"talking_photo_id": "photo-1", "avatar_id": None},
    ("voice", "type", "audio"): {"audio_url": "https://files.example/voice.mp3", "input_text": None, "voice_id": None},
    ("voice", "type", "silence"): {"duration": 2, "input_text": None, "voice_id": None},
    ("background", "type", "color"): {"value": "#1A2B3C", "url": None},
    ("background", "type", "image"): {"url": "https://files.example/background.jpg"},
}


def enumerated_values() -> Iterator[tuple[str, str, str]]:
    for part, model in SOURCES.items():
        for name, field in model.model_fields.items():
            for arm in typing.get_args(field.annotation) or (field.annotation,):
                if typing.get_origin(arm) is typing.Literal:
                    for value in typing.get_args(arm):
                        yield part, name, value


def scene_with(part: str, name: str, value: str) -> dict[str, Any]:
    scene = {key: dict(body) for key, body in BASE.items()}
    scene[part][name] = value
    for key, companion in COMPANIONS.get((part, name, value), {}).items():
        if companion is None:
            scene[part].pop(key, None)
        else:
            scene[part][key] = companion
    return scene


CASES = sorted(set(enumerated_values()))


def test_every_model_enumeration_is_covered() -> None:
    # A new Literal field or value shows up here, so it cannot skip the contract.
    assert {("background", "play_style", "once"), ("character", "avatar_style", "closeUp")} <= set(CASES)
    assert len(CASES) >= 20


@pytest.mark.parametrize(("part", "name", "value"), CASES, ids=[f"{p}.{n}={v}" for p, n, v in CASES])
def test_the_emulator_accepts_what_the_models_accept(part: str, name: str, value: str) -> None:
    request = VideoGenerateRequest.from_params({"video_inputs": [scene_with(part, name, value)]})
    body = request.to_payload()
    validate_generate(body, SETTINGS)  # raises Rejection on disagreement


@pytest.mark.parametrize(
    ("part", "name", "value"),
    [
        ("background", "play_style", "full_video"),
        ("background", "value", "#FFF"),
        ("background", "value", "#11223344"),
        ("character", "avatar_style", "square"),
    ],
)
def test_both_refuse_what_heygen_refuses(part: str, name: str, value: str) -> None:
    scene = scene_with(part, name, value)
    if name == "value":
        scene = scene_with("background", "type", "color")
        scene["background"]["value"] = value
    with pytest.raises(HeyGenRequestValidationError):
        VideoGenerateRequest.from_params({"video_inputs": [scene]})
    with pytest.raises(Rejection):
        validate_generate({"video_inputs": [scene]}, SETTINGS)
