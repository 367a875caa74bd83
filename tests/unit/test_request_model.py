"""The video request model: every rule of the spec, the error format, and the JSON sent to HeyGen."""

from __future__ import annotations

from typing import Any

import pytest

from heygen_provider.exceptions import HeyGenRequestValidationError
from heygen_provider.models import VideoGenerateRequest
from tests.fixtures.scenes import scene

UNKNOWN_FIELD = (
    "is not a known field (check the spelling; to send a field the provider does not know yet, put it in extra_fields)"
)
AUDIO_RULE = "exactly one of audio_url and audio_asset_id is required when type is 'audio'"


def problems_of(params: dict[str, Any]) -> list[str]:
    with pytest.raises(HeyGenRequestValidationError) as caught:
        VideoGenerateRequest.from_params(params)
    return caught.value.problems


def scene_problems(**overrides: Any) -> list[str]:
    """Problems of a one-scene request whose scene is :func:`scene` with ``overrides``."""
    return problems_of({"video_inputs": [scene(**overrides)]})


def payload_of(params: dict[str, Any]) -> dict[str, Any]:
    return VideoGenerateRequest.from_params(params).to_payload()


def scene_payload(**overrides: Any) -> dict[str, Any]:
    """The JSON of the only scene of a one-scene request."""
    return payload_of({"video_inputs": [scene(**overrides)]})["video_inputs"][0]


def with_character(character: dict[str, Any]) -> dict[str, Any]:
    """A text scene whose character is exactly ``character``."""
    return {**scene(), "character": character}


class TestVideoInputs:
    def test_one_scene_is_enough(self) -> None:
        assert len(payload_of({"video_inputs": [scene()]})["video_inputs"]) == 1

    def test_fifty_scenes_are_accepted(self) -> None:
        assert len(payload_of({"video_inputs": [scene()] * 50})["video_inputs"]) == 50

    @pytest.mark.parametrize(
        ("scenes", "problem"),
        [
            ([], "video_inputs: must have at least 1 item(s)"),
            ([scene()] * 51, "video_inputs: must have at most 50 item(s)"),
        ],
        ids=["none", "fifty-one"],
    )
    def test_scene_count_out_of_bounds(self, scenes: list[dict[str, Any]], problem: str) -> None:
        assert problems_of({"video_inputs": scenes}) == [problem]

    def test_video_inputs_is_required(self) -> None:
        assert problems_of({"title": "no scenes"}) == ["video_inputs: is required"]

    def test_a_scene_needs_a_character_and_a_voice(self) -> None:
        assert problems_of({"video_inputs": [{}]}) == [
            "video_inputs[0].character: is required",
            "video_inputs[0].voice: is required",
        ]


class TestCharacter:
    def test_talking_photo_with_its_id(self) -> None:
        character = {"type": "talking_photo", "talking_photo_id": "photo-1"}
        assert payload_of({"video_inputs": [with_character(character)]})["video_inputs"][0]["character"] == (character)

    @pytest.mark.parametrize(
        ("character", "problem"),
        [
            (
                {"type": "avatar", "talking_photo_id": "photo-1"},
                "video_inputs[0].character.avatar_id: is required when type is 'avatar'",
            ),
            (
                # An avatar id does not stand in for the photo's id.
                {"type": "talking_photo", "avatar_id": "avatar-1"},
                "video_inputs[0].character.talking_photo_id: is required when type is 'talking_photo'",
            ),
            (
                {"type": "robot", "avatar_id": "avatar-1"},
                "video_inputs[0].character.type: must be one of 'avatar', 'talking_photo' or 'image' (got 'robot')",
            ),
            (
                {"avatar_id": "avatar-1"},
                "video_inputs[0].character.type: is required",
            ),
            (
                {"type": "avatar", "avatar_id": "avatar-1", "avatar_style": "square"},
                "video_inputs[0].character.avatar_style: must be one of 'normal', 'circle' or 'closeUp' (got 'square')",
            ),
            (
                {"type": "avatar", "avatar_id": ""},
                "video_inputs[0].character.avatar_id: must not be empty (got '')",
            ),
        ],
        ids=["avatar-without-id", "photo-without-id", "bad-type", "no-type", "style", "empty-id"],
    )
    def test_character_rules(self, character: dict[str, Any], problem: str) -> None:
        assert problems_of({"video_inputs": [with_character(character)]}) == [problem]

    @pytest.mark.parametrize("style", ["normal", "circle", "closeUp"])
    def test_every_avatar_style(self, style: str) -> None:
        assert scene_payload(character={"avatar_style": style})["character"]["avatar_style"] == style

    @pytest.mark.parametrize("scale", [0, 0.0, 1.0, 5, 5.0])
    def test_scale_bounds_are_inclusive(self, scale: float) -> None:
        assert scene_payload(character={"scale": scale})["character"]["scale"] == scale

    @pytest.mark.parametrize("scale", [-0.01, 5.01, 100])
    def test_scale_outside_bounds(self, scale: float) -> None:
        assert scene_problems(character={"scale": scale}) == [
            f"video_inputs[0].character.scale: must be between 0.0 and 5.0 (got {scale!r})"
        ]

    def test_offset_is_sent_as_given(self) -> None:
        offset = {"x": 0.25, "y": -0.5}
        assert scene_payload(character={"offset": offset})["character"]["offset"] == offset

    @pytest.mark.parametrize(
        ("offset", "problem"),
        [
            ({"x": "left"}, "video_inputs[0].character.offset.x: must be a number (got 'left')"),
            ({"y": True}, "video_inputs[0].character.offset.y: must be a number, not true or false (got True)"),
            ({"z": 1}, f"video_inputs[0].character.offset.z: {UNKNOWN_FIELD} (got 1)"),
        ],
        ids=["text", "bool", "unknown-axis"],
    )
    def test_bad_offset(self, offset: dict[str, Any], problem: str) -> None:
        assert scene_problems(character={"offset": offset}) == [problem]

    def test_avatar_iv_model_flag_is_sent(self) -> None:
        character = scene_payload(character={"use_avatar_iv_model": True})["character"]
        assert character["use_avatar_iv_model"] is True


class TestTextVoice:
    @pytest.mark.parametrize("missing", ["input_text", "voice_id"])
    def test_text_voice_needs_text_and_voice_id(self, missing: str) -> None:
        built = scene()
        del built["voice"][missing]
        assert problems_of({"video_inputs": [built]}) == [
            f"video_inputs[0].voice.{missing}: is required when type is 'text'"
        ]

    def test_text_of_exactly_5000_characters_is_accepted(self) -> None:
        text = "a" * 5000
        assert scene_payload(voice={"input_text": text})["voice"]["input_text"] == text

    def test_text_of_5001_characters_is_rejected(self) -> None:
        (problem,) = scene_problems(voice={"input_text": "a" * 5001})
        assert problem.startswith("video_inputs[0].voice.input_text: must be at most 5000 characters (got 'aaa")

    def test_empty_text_is_rejected(self) -> None:
        assert scene_problems(voice={"input_text": ""}) == [
            "video_inputs[0].voice.input_text: must not be empty (got '')"
        ]

    @pytest.mark.parametrize("speed", [0.5, 1, 1.5])
    def test_speed_bounds_are_inclusive(self, speed: float) -> None:
        assert scene_payload(voice={"speed": speed})["voice"]["speed"] == speed

    @pytest.mark.parametrize("speed", [0.49, 1.51, 2.0])
    def test_speed_outside_bounds(self, speed: float) -> None:
        assert scene_problems(voice={"speed": speed}) == [
            f"video_inputs[0].voice.speed: must be between 0.5 and 1.5 (got {speed!r})"
        ]

    @pytest.mark.parametrize(
        ("speed", "rule"),
        [
            (True, "must be a number, not true or false (got True)"),
            (float("nan"), "must be a finite number (got nan)"),
            ("fast", "must be a number (got 'fast')"),
        ],
        ids=["bool", "nan", "text"],
    )
    def test_speed_must_be_a_real_number(self, speed: Any, rule: str) -> None:
        assert scene_problems(voice={"speed": speed}) == [f"video_inputs[0].voice.speed: {rule}"]

    @pytest.mark.parametrize("pitch", [-50, 0, 50])
    def test_pitch_bounds_are_inclusive(self, pitch: int) -> None:
        assert scene_payload(voice={"pitch": pitch})["voice"]["pitch"] == pitch

    @pytest.mark.parametrize(
        ("pitch", "rule"),
        [
            (-51, "must be between -50 and 50 (got -51)"),
            (51, "must be between -50 and 50 (got 51)"),
            (1.5, "must be a whole number (got 1.5)"),
            (True, "must be a whole number (got True)"),
            ("3", "must be a whole number (got '3')"),
        ],
        ids=["below", "above", "fraction", "bool", "text"],
    )
    def test_pitch_must_be_a_whole_number_in_range(self, pitch: Any, rule: str) -> None:
        assert scene_problems(voice={"pitch": pitch}) == [f"video_inputs[0].voice.pitch: {rule}"]

    @pytest.mark.parametrize("emotion", ["Excited", "Friendly", "Serious", "Soothing", "Broadcaster"])
    def test_every_emotion(self, emotion: str) -> None:
        assert scene_payload(voice={"emotion": emotion})["voice"]["emotion"] == emotion

    @pytest.mark.parametrize("emotion", ["excited", "Happy"])
    def test_unknown_emotion_is_rejected(self, emotion: str) -> None:
        assert scene_problems(voice={"emotion": emotion}) == [
            "video_inputs[0].voice.emotion: must be one of "
            f"'Excited', 'Friendly', 'Serious', 'Soothing' or 'Broadcaster' (got {emotion!r})"
        ]

    def test_unknown_voice_type_is_rejected(self) -> None:
        assert scene_problems(voice={"type": "music"}) == [
            "video_inputs[0].voice.type: must be one of 'text', 'audio' or 'silence' (got 'music')"
        ]


def audio_or_silence_scene(voice: dict[str, Any]) -> dict[str, Any]:
    return {"character": {"type": "talking_photo", "talking_photo_id": "photo-1"}, "voice": voice}


class TestAudioAndSilenceVoices:
    @pytest.mark.parametrize(
        "voice",
        [
            {"type": "audio", "audio_url": "https://cdn.example.com/line.mp3"},
            {"type": "audio", "audio_asset_id": "asset-1"},
            {"type": "silence", "duration": 1.5},
        ],
        ids=["audio-url", "audio-asset", "silence"],
    )
    def test_valid_voice_is_sent_as_given(self, voice: dict[str, Any]) -> None:
        payload = payload_of({"video_inputs": [audio_or_silence_scene(voice)]})
        assert payload["video_inputs"][0]["voice"] == voice

    @pytest.mark.parametrize(
        ("voice", "problem"),
        [
            ({"type": "audio"}, f"video_inputs[0].voice.audio_url: {AUDIO_RULE}"),
            (
                {"type": "audio", "audio_url": "https://cdn.example.com/a.mp3", "audio_asset_id": "asset-1"},
                f"video_inputs[0].voice.audio_url: {AUDIO_RULE}",
            ),
            (
                {"type": "audio", "audio_url": "cdn.example.com/a.mp3"},
                "video_inputs[0].voice.audio_url: must be an absolute http:// or https:// URL "
                "(got 'cdn.example.com/a.mp3')",
            ),
            ({"type": "silence"}, "video_inputs[0].voice.duration: is required when type is 'silence'"),
            (
                {"type": "silence", "duration": 0},
                "video_inputs[0].voice.duration: input should be greater than 0 (got 0)",
            ),
        ],
        ids=["audio-neither", "audio-both", "audio-relative-url", "silence-no-duration", "silence-zero"],
    )
    def test_invalid_voice(self, voice: dict[str, Any], problem: str) -> None:
        assert problems_of({"video_inputs": [audio_or_silence_scene(voice)]}) == [problem]


class TestBackground:
    @pytest.mark.parametrize(
        "background",
        [
            {"type": "color", "value": "#FAFAFA"},
            {"type": "image", "url": "https://cdn.example.com/bg.png", "fit": "cover"},
            {"type": "image", "image_asset_id": "image-1"},
            {"type": "video", "url": "https://cdn.example.com/bg.mp4", "play_style": "loop"},
            {"type": "video", "video_asset_id": "video-1", "fit": "contain"},
        ],
        ids=["color", "image-url", "image-asset", "video-url", "video-asset"],
    )
    def test_valid_background_is_sent_as_given(self, background: dict[str, Any]) -> None:
        assert scene_payload(background=background)["background"] == background

    def test_background_is_optional_and_omitted(self) -> None:
        assert "background" not in scene_payload()

    @pytest.mark.parametrize(
        ("background", "rule"),
        [
            ({"type": "color"}, "value: is required when type is 'color' (a hex colour like #FAFAFA)"),
            ({"type": "color", "value": "red"}, "value: must be a hex colour such as #FAFAFA (got 'red')"),
            ({"type": "image"}, "url: exactly one of url and image_asset_id is required when type is 'image'"),
            (
                {"type": "image", "url": "https://cdn.example.com/bg.png", "image_asset_id": "image-1"},
                "url: exactly one of url and image_asset_id is required when type is 'image'",
            ),
            (
                # The asset id must match the background's type.
                {"type": "video", "image_asset_id": "image-1"},
                "url: exactly one of url and video_asset_id is required when type is 'video'",
            ),
            ({"type": "gradient"}, "type: must be one of 'color', 'image' or 'video' (got 'gradient')"),
            (
                {"type": "video", "video_asset_id": "video-1", "play_style": "bounce"},
                "play_style: must be one of 'fit_to_scene', 'freeze', 'loop' or 'once' (got 'bounce')",
            ),
        ],
        ids=["color-no-value", "color-name", "image-neither", "image-both", "video-image-id", "type", "play"],
    )
    def test_invalid_background(self, background: dict[str, Any], rule: str) -> None:
        assert scene_problems(background=background) == [f"video_inputs[0].background.{rule}"]


class TestDimension:
    def test_default_is_720p(self) -> None:
        assert payload_of({"video_inputs": [scene()]})["dimension"] == {"width": 1280, "height": 720}

    @pytest.mark.parametrize(
        ("preset", "size"),
        [
            ("720p", {"width": 1280, "height": 720}),
            ("1080p", {"width": 1920, "height": 1080}),
            ("4K", {"width": 3840, "height": 2160}),
            ("4k", {"width": 3840, "height": 2160}),
            (" 1080P ", {"width": 1920, "height": 1080}),
        ],
    )
    def test_presets_by_name_case_insensitive(self, preset: str, size: dict[str, int]) -> None:
        assert payload_of({"video_inputs": [scene()], "dimension": preset})["dimension"] == size

    def test_unknown_preset_names_the_presets(self) -> None:
        assert problems_of({"video_inputs": [scene()], "dimension": "8K"}) == [
            "dimension: must be one of '720p', '1080p', '4K' or an object {width, height} (got '8K')"
        ]

    @pytest.mark.parametrize(
        "size", [{"width": 128, "height": 4096}, {"width": 1080, "height": 1920}, {"width": 4096, "height": 128}]
    )
    def test_explicit_even_size_within_bounds(self, size: dict[str, int]) -> None:
        assert payload_of({"video_inputs": [scene()], "dimension": size})["dimension"] == size

    @pytest.mark.parametrize(
        ("size", "problems"),
        [
            (
                {"width": 126, "height": 4098},
                [
                    "dimension.width: must be an even number of pixels between 128 and 4096 (got 126)",
                    "dimension.height: must be an even number of pixels between 128 and 4096 (got 4098)",
                ],
            ),
            (
                {"width": 1281, "height": 720},
                ["dimension.width: must be an even number of pixels between 128 and 4096 (got 1281)"],
            ),
            ({"width": 1280.5, "height": 720}, ["dimension.width: must be a whole number (got 1280.5)"]),
            ({"width": 1280}, ["dimension.height: is required"]),
        ],
        ids=["out-of-bounds", "odd", "fraction", "missing-height"],
    )
    def test_invalid_explicit_size(self, size: dict[str, Any], problems: list[str]) -> None:
        assert problems_of({"video_inputs": [scene()], "dimension": size}) == problems


class TestTopLevelFields:
    def test_defaults_are_sent_and_optional_fields_omitted(self) -> None:
        assert payload_of({"video_inputs": [scene()]}) == {
            "video_inputs": [scene()],
            "dimension": {"width": 1280, "height": 720},
            "caption": False,
            "title": "",
        }

    def test_none_parameters_keep_their_defaults(self) -> None:
        # Operators pass unset template fields as None.
        payload = payload_of({"video_inputs": [scene()], "caption": None, "title": None, "test": None})
        assert (payload["caption"], payload["title"], "test" in payload) == (False, "", False)

    def test_every_field_is_sent(self) -> None:
        built = scene(
            character={"avatar_style": "closeUp", "scale": 1.25, "offset": {"x": 0.1, "y": -0.1}},
            voice={"speed": 1.1, "pitch": -5, "emotion": "Friendly", "locale": "en-US"},
            background={"type": "color", "value": "#008000"},
        )
        params = {
            "video_inputs": [built],
            "dimension": "1080p",
            "caption": True,
            "title": "Quarterly update",
            "callback_id": "run-42",
            "callback_url": "https://hooks.example.com/heygen",
            "test": True,
            "folder_id": "folder-9",
        }
        assert payload_of(params) == {**params, "dimension": {"width": 1920, "height": 1080}}

    @pytest.mark.parametrize("url", ["https://hooks.example.com/heygen", "http://hooks.example.com:8080/cb?x=1"])
    def test_callback_url_is_kept_verbatim(self, url: str) -> None:
        assert payload_of({"video_inputs": [scene()], "callback_url": url})["callback_url"] == url

    @pytest.mark.parametrize("url", ["ftp://hooks.example.com/cb", "/relative/path", "hooks.example.com", "https://"])
    def test_callback_url_must_be_absolute_http(self, url: str) -> None:
        assert problems_of({"video_inputs": [scene()], "callback_url": url}) == [
            f"callback_url: must be an absolute http:// or https:// URL (got {url!r})"
        ]

    @pytest.mark.parametrize(
        ("field", "value", "problem"),
        [
            ("caption", "sometimes", "caption: must be true or false (got 'sometimes')"),
            ("test", [], "test: must be true or false"),
            ("title", 7, "title: must be a string (got 7)"),
            ("callback_id", "", "callback_id: must not be empty (got '')"),
            ("folder_id", "", "folder_id: must not be empty (got '')"),
        ],
    )
    def test_wrong_types(self, field: str, value: Any, problem: str) -> None:
        assert problems_of({"video_inputs": [scene()], field: value}) == [problem]


class TestUnknownFieldsAndExtraFields:
    @pytest.mark.parametrize(
        ("params", "path"),
        [
            ({"video_inputs": [scene(voice={"voice_idd": "voice-1"})]}, "video_inputs[0].voice.voice_idd"),
            ({"video_inputs": [scene(character={"avatarId": "a"})]}, "video_inputs[0].character.avatarId"),
            ({"video_inputs": [scene(backgrond={"type": "color"})]}, "video_inputs[0].backgrond"),
            ({"video_inputs": [scene()], "captions": True}, "captions"),
        ],
        ids=["voice", "character", "scene", "top-level"],
    )
    def test_a_typo_is_reported_never_dropped(self, params: dict[str, Any], path: str) -> None:
        (problem,) = problems_of(params)
        assert problem.startswith(f"{path}: {UNKNOWN_FIELD}")

    def test_extra_fields_are_sent_verbatim_at_every_level(self) -> None:
        novelty = {"nested": {"list": [1, "two"], "flag": None}}
        built = scene(
            character={"extra_fields": {"character_new": novelty}, "offset": {"x": 0, "extra_fields": {"z": 3}}},
            voice={"extra_fields": {"voice_new": "v"}},
            background={"type": "color", "value": "#000000", "extra_fields": {"blur": 2}},
            extra_fields={"transition": "fade"},
        )
        payload = payload_of(
            {
                "video_inputs": [built],
                "dimension": {"width": 1280, "height": 720, "extra_fields": {"fps": 30}},
                "extra_fields": {"brand_kit_id": "kit-1"},
            }
        )
        sent_scene = payload["video_inputs"][0]
        assert payload["brand_kit_id"] == "kit-1"
        assert payload["dimension"] == {"width": 1280, "height": 720, "fps": 30}
        assert sent_scene["transition"] == "fade"
        assert sent_scene["character"]["character_new"] == novelty  # None inside is kept as sent
        assert sent_scene["character"]["offset"] == {"x": 0.0, "y": 0.0, "z": 3}
        assert sent_scene["voice"]["voice_new"] == "v"
        assert sent_scene["background"]["blur"] == 2
        assert "extra_fields" not in str(payload)

    @pytest.mark.parametrize(
        ("params", "problem"),
        [
            (
                {"video_inputs": [scene(voice={"extra_fields": {"voice_id": "other"}})]},
                "video_inputs[0].voice.extra_fields: repeats the known field(s) voice_id: set them directly",
            ),
            (
                {"video_inputs": [scene(extra_fields={"background": {}, "voice": {}})]},
                "video_inputs[0].extra_fields: repeats the known field(s) background, voice: set them directly",
            ),
            (
                {"video_inputs": [scene()], "extra_fields": {"caption": True}},
                "extra_fields: repeats the known field(s) caption: set them directly",
            ),
        ],
        ids=["voice", "built", "top-level"],
    )
    def test_extra_fields_refuse_to_repeat_a_known_field(self, params: dict[str, Any], problem: str) -> None:
        assert problems_of(params) == [problem]

    def test_a_clash_cannot_be_smuggled_in_past_validation(self) -> None:
        request = VideoGenerateRequest.model_construct(
            video_inputs=[], extra_fields={"title": "sneaky"}, caption=False, title=""
        )
        with pytest.raises(ValueError, match=r"extra_fields repeats known field\(s\) \['title'\]"):
            request.to_payload()


class TestErrorReport:
    def test_every_bad_field_is_listed_by_path_and_rule(self) -> None:
        bad_scene = scene(
            character={"scale": 9, "avatar_style": "wide"},
            voice={"speed": 2.0, "pitch": 1.5, "emotion": "Happy"},
        )
        other_bad_scene = scene(voice={"type": "silence"})
        params = {"video_inputs": [bad_scene, other_bad_scene], "dimension": "8K", "captoin": True}
        with pytest.raises(HeyGenRequestValidationError) as caught:
            VideoGenerateRequest.from_params(params)
        expected = [
            "video_inputs[0].character.avatar_style: must be one of 'normal', 'circle' or 'closeUp' (got 'wide')",
            "video_inputs[0].character.scale: must be between 0.0 and 5.0 (got 9)",
            "video_inputs[0].voice.speed: must be between 0.5 and 1.5 (got 2.0)",
            "video_inputs[0].voice.pitch: must be a whole number (got 1.5)",
            "video_inputs[0].voice.emotion: must be one of "
            "'Excited', 'Friendly', 'Serious', 'Soothing' or 'Broadcaster' (got 'Happy')",
            "video_inputs[1].voice.duration: is required when type is 'silence'",
            "dimension: must be one of '720p', '1080p', '4K' or an object {width, height} (got '8K')",
            f"captoin: {UNKNOWN_FIELD} (got True)",
        ]
        assert sorted(caught.value.problems) == sorted(expected)
        error_text = str(caught.value)
        assert error_text.startswith(f"Invalid HeyGen video request ({len(expected)} problem(s)):")
        assert all(f"\n  - {problem}" in error_text for problem in expected)

    def test_the_error_is_a_value_error_for_callers_that_catch_those(self) -> None:
        with pytest.raises(ValueError, match=r"video_inputs: must have at least 1 item"):
            VideoGenerateRequest.from_params({"video_inputs": []})

    def test_both_missing_text_fields_are_listed(self) -> None:
        built = scene()
        del built["voice"]["input_text"], built["voice"]["voice_id"]
        assert sorted(problems_of({"video_inputs": [built]})) == [
            "video_inputs[0].voice.input_text: is required when type is 'text'",
            "video_inputs[0].voice.voice_id: is required when type is 'text'",
        ]

    def test_missing_id_is_listed_beside_a_range_error_in_the_same_object(self) -> None:
        built = scene(character={"scale": 9}, voice={"speed": 2.0})
        del built["character"]["avatar_id"], built["voice"]["voice_id"]
        assert sorted(problems_of({"video_inputs": [built]})) == [
            "video_inputs[0].character.avatar_id: is required when type is 'avatar'",
            "video_inputs[0].character.scale: must be between 0.0 and 5.0 (got 9)",
            "video_inputs[0].voice.speed: must be between 0.5 and 1.5 (got 2.0)",
            "video_inputs[0].voice.voice_id: is required when type is 'text'",
        ]
