"""The spec's request translated to HeyGen's v3 create body (``to_v3_body``) and to the legacy one, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from heygen_provider.exceptions import HeyGenRequestValidationError
from heygen_provider.models import VideoGenerateRequest
from heygen_provider.models.v3_body import V3_SIZES, to_v3_body

AVATAR = {"type": "avatar", "avatar_id": "avatar-1"}
TEXT = {"type": "text", "input_text": "Hello from Airflow.", "voice_id": "voice-1"}


def request(*scenes: dict[str, Any], **fields: Any) -> VideoGenerateRequest:
    return VideoGenerateRequest.from_params(
        {"video_inputs": list(scenes) or [{"character": AVATAR, "voice": TEXT}], **fields}
    )


def scene(character: dict[str, Any] = AVATAR, voice: dict[str, Any] = TEXT, **parts: Any) -> dict[str, Any]:
    return {"character": character, "voice": voice, **parts}


TRANSLATIONS: list[tuple[str, VideoGenerateRequest, dict[str, Any]]] = [
    (
        "avatar, text, defaults",
        request(),
        {
            "type": "avatar",
            "avatar_id": "avatar-1",
            "script": "Hello from Airflow.",
            "voice_id": "voice-1",
            "resolution": "720p",
            "aspect_ratio": "16:9",
        },
    ),
    (
        "talking photo is a photo-avatar look",
        request(scene({"type": "talking_photo", "talking_photo_id": "look-9"})),
        {"type": "avatar", "avatar_id": "look-9", "script": "Hello from Airflow.", "voice_id": "voice-1"},
    ),
    (
        "image from a URL",
        request(scene({"type": "image", "image_url": "https://files.example/me.png"})),
        {"type": "image", "image": {"type": "url", "url": "https://files.example/me.png"}},
    ),
    (
        "image from an asset",
        request(scene({"type": "image", "image_asset_id": "asset-1"})),
        {"type": "image", "image": {"type": "asset_id", "asset_id": "asset-1"}},
    ),
    (
        "voice settings",
        request(scene(voice={**TEXT, "speed": 1.2, "pitch": -5, "locale": "en-GB", "volume": 0.5})),
        {"voice_settings": {"speed": 1.2, "pitch": -5, "locale": "en-GB", "volume": 0.5}},
    ),
    (
        "audio URL",
        request(scene(voice={"type": "audio", "audio_url": "https://files.example/a.mp3"})),
        {"audio_url": "https://files.example/a.mp3"},
    ),
    (
        "audio asset",
        request(scene(voice={"type": "audio", "audio_asset_id": "audio-1"})),
        {"audio_asset_id": "audio-1"},
    ),
    ("1080p preset", request(dimension="1080p"), {"resolution": "1080p", "aspect_ratio": "16:9"}),
    ("4K preset", request(dimension="4K"), {"resolution": "4k", "aspect_ratio": "16:9"}),
    (
        "portrait size",
        request(dimension={"width": 1080, "height": 1920}),
        {"resolution": "1080p", "aspect_ratio": "9:16"},
    ),
    ("square size", request(dimension={"width": 720, "height": 720}), {"resolution": "720p", "aspect_ratio": "1:1"}),
    (
        "resolution and aspect ratio given",
        request(resolution="1080p", aspect_ratio="4:5"),
        {"resolution": "1080p", "aspect_ratio": "4:5"},
    ),
    ("caption", request(caption=True), {"caption": {"file_format": "srt", "style": "default"}}),
    (
        "colour background",
        request(scene(background={"type": "color", "value": "#1A2B3C"})),
        {"background": {"type": "color", "value": "#1A2B3C"}},
    ),
    (
        "image background",
        request(scene(background={"type": "image", "url": "https://files.example/bg.jpg"})),
        {"background": {"type": "image", "url": "https://files.example/bg.jpg"}},
    ),
    (
        "title and callbacks",
        request(title="Weekly", callback_id="row-7", callback_url="https://hooks.example/heygen"),
        {"title": "Weekly", "callback_id": "row-7", "callback_url": "https://hooks.example/heygen"},
    ),
    (
        "v3 options",
        request(
            engine="avatar_v",
            motion_prompt="waves",
            output_format="webm",
            remove_background=True,
            fit="cover",
        ),
        {
            "engine": {"type": "avatar_v"},
            "motion_prompt": "waves",
            "output_format": "webm",
            "remove_background": True,
            "fit": "cover",
        },
    ),
    ("expressiveness", request(expressiveness="high"), {"expressiveness": "high"}),
    (
        "extra fields at the top",
        request(
            extra_fields={"watermark": {"image": {"type": "url", "url": "https://files.example/w.png"}, "opacity": 0.5}}
        ),
        {"watermark": {"image": {"type": "url", "url": "https://files.example/w.png"}, "opacity": 0.5}},
    ),
]


@pytest.mark.parametrize(("case", "source", "expected"), TRANSLATIONS, ids=[case for case, _, _ in TRANSLATIONS])
def test_translation(case: str, source: VideoGenerateRequest, expected: dict[str, Any]) -> None:
    body = to_v3_body(source)
    assert {key: body.get(key) for key in expected} == expected


def test_two_scenes_become_one_studio_video() -> None:
    body = to_v3_body(
        request(
            scene(background={"type": "color", "value": "#000000"}),
            scene({"type": "image", "image_asset_id": "asset-2"}, {"type": "audio", "audio_asset_id": "audio-2"}),
            title="Two",
            caption=True,
            dimension="1080p",
            motion_prompt="nods",
        )
    )
    assert body == {
        "type": "studio",
        "scenes": [
            {
                "type": "avatar_video",
                "input": {
                    "type": "avatar",
                    "avatar_id": "avatar-1",
                    "script": "Hello from Airflow.",
                    "voice_id": "voice-1",
                    "motion_prompt": "nods",
                    "background": {"type": "color", "color": "#000000"},
                },
            },
            {
                "type": "avatar_video",
                "input": {
                    "type": "image",
                    "image": {"type": "asset_id", "asset_id": "asset-2"},
                    "audio_asset_id": "audio-2",
                    "motion_prompt": "nods",
                },
            },
        ],
        "resolution": "1080p",
        "aspect_ratio": "16:9",
        "title": "Two",
        "caption": {"file_format": "srt", "style": "default"},
    }


def problems_of(source: VideoGenerateRequest) -> list[str]:
    with pytest.raises(HeyGenRequestValidationError) as caught:
        to_v3_body(source)
    return caught.value.problems


NEEDS_LEGACY = [
    ("avatar_style", request(scene({**AVATAR, "avatar_style": "circle"})), "video_inputs[0].character.avatar_style"),
    ("scale", request(scene({**AVATAR, "scale": 2.0})), "video_inputs[0].character.scale"),
    ("offset", request(scene({**AVATAR, "offset": {"x": 0.1, "y": 0}})), "video_inputs[0].character.offset"),
    ("emotion", request(scene(voice={**TEXT, "emotion": "Friendly"})), "video_inputs[0].voice.emotion"),
    ("silence", request(scene(voice={"type": "silence", "duration": 2})), "video_inputs[0].voice.type"),
    ("test", request(test=True), "test"),
    ("folder_id", request(folder_id="folder-1"), "folder_id"),
    (
        "video background",
        request(scene(background={"type": "video", "url": "https://files.example/bg.mp4"})),
        "video_inputs[0].background.type",
    ),
    (
        "image background in a studio video",
        request(scene(background={"type": "image", "url": "https://files.example/bg.jpg"}), scene()),
        "video_inputs[0].background.type",
    ),
]


@pytest.mark.parametrize(("case", "source", "path"), NEEDS_LEGACY, ids=[case for case, _, _ in NEEDS_LEGACY])
def test_what_v3_cannot_express_names_the_field_and_the_legacy_api(
    case: str, source: VideoGenerateRequest, path: str
) -> None:
    (problem,) = problems_of(source)
    assert problem.startswith(f"{path}: needs api_version 'legacy'")


def test_every_problem_is_listed_at_once() -> None:
    source = request(scene({**AVATAR, "avatar_style": "circle"}, {**TEXT, "emotion": "Serious"}), test=True)
    assert len(problems_of(source)) == 3


def test_a_size_v3_cannot_make_names_dimension_and_the_sizes_it_can() -> None:
    (problem,) = problems_of(request(dimension={"width": 1000, "height": 600}))
    assert problem.startswith("dimension: v3 makes only these sizes:")
    assert "1280x720" in problem and "1080x1920" in problem


def test_v3_sizes_cover_the_spec_presets() -> None:
    assert {(1280, 720), (1920, 1080), (3840, 2160)} <= set(V3_SIZES)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"engine": "avatar_iii", "motion_prompt": "nods"}, "motion_prompt"),
        ({"engine": "avatar_v", "expressiveness": "low"}, "expressiveness"),
        ({"output_format": "webm"}, "video_inputs[0].background"),
    ],
)
def test_engine_rules(fields: dict[str, Any], field: str) -> None:
    source = request(scene(background={"type": "color", "value": "#FFFFFF"}), **fields)
    assert any(problem.startswith(field) for problem in problems_of(source))


def test_engine_is_refused_for_an_image_character() -> None:
    source = request(scene({"type": "image", "image_url": "https://files.example/me.png"}), engine="avatar_iv")
    assert problems_of(source)[0].startswith("engine:")


def test_dimension_and_resolution_together_are_refused_by_the_model() -> None:
    with pytest.raises(HeyGenRequestValidationError, match="dimension: give either dimension or resolution"):
        request(dimension="1080p", resolution="720p")


class TestLegacyTranslation:
    def test_the_spec_request_is_sent_as_it_is(self) -> None:
        source = request(scene({**AVATAR, "avatar_style": "circle"}), test=True, caption=True)
        assert source.to_legacy_body() == source.to_payload()

    @pytest.mark.parametrize(
        ("source", "path"),
        [
            (request(engine="avatar_iv"), "engine"),
            (request(resolution="1080p"), "resolution"),
            (
                request(scene({"type": "image", "image_url": "https://files.example/me.png"})),
                "video_inputs[0].character.type",
            ),
            (request(scene(voice={**TEXT, "volume": 0.3})), "video_inputs[0].voice.volume"),
        ],
    )
    def test_v3_only_fields_name_the_field_and_v3(self, source: VideoGenerateRequest, path: str) -> None:
        with pytest.raises(HeyGenRequestValidationError) as caught:
            source.to_legacy_body()
        (problem,) = caught.value.problems
        assert problem.startswith(f"{path}: needs api_version 'v3'")


class TestImageCharacter:
    @pytest.mark.parametrize(
        "character",
        [
            {"type": "image"},
            {"type": "image", "image_url": "https://files.example/a.png", "image_asset_id": "asset-1"},
            {"type": "avatar", "avatar_id": "a", "image_url": "https://files.example/a.png"},
        ],
        ids=["none", "two", "not-an-image-character"],
    )
    def test_exactly_one_image_source(self, character: dict[str, Any]) -> None:
        with pytest.raises(HeyGenRequestValidationError, match=r"video_inputs\[0\]\.character\.image_url"):
            request(scene(character))


class TestHeyGensSchema:
    """Every translation above, and the studio one, fits HeyGen's published VideoCreate schema and rules."""

    @pytest.mark.parametrize(("case", "source", "expected"), TRANSLATIONS, ids=[case for case, _, _ in TRANSLATIONS])
    def test_each_translation_fits_heygens_schema(
        self, case: str, source: VideoGenerateRequest, expected: dict[str, Any]
    ) -> None:
        from heygen_provider.testing.emulator import EmulatorSettings
        from heygen_provider.testing.emulator.schema import request_problem
        from heygen_provider.testing.emulator.validation_v3 import validate_create_v3

        body = to_v3_body(source)
        assert request_problem("VideoCreate", body) is None
        validate_create_v3(body, EmulatorSettings(plan="enterprise"), lambda asset_id, kind: True)

    def test_a_studio_translation_fits_heygens_schema(self) -> None:
        from heygen_provider.testing.emulator.schema import request_problem

        body = to_v3_body(
            request(
                scene(background={"type": "color", "value": "#000000"}),
                scene({"type": "image", "image_asset_id": "asset-2"}, {"type": "audio", "audio_asset_id": "a-2"}),
                caption=True,
            )
        )
        assert request_problem("VideoCreate", body) is None
