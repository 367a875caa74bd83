"""Request validation, answered with HeyGen's v2 error body."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from heygen_provider.testing.emulator import HeyGenEmulator

from .helpers import GENERATE, VALID_BODY, video_body


def with_scene(**parts: Any) -> dict[str, Any]:
    """A valid body whose first scene's character, voice or background is replaced or extended."""
    body = copy.deepcopy(VALID_BODY)
    scene = body["video_inputs"][0]
    for name, value in parts.items():
        scene[name] = value if value is None or name == "background" else {**scene[name], **value}
        if value is None:
            del scene[name]
    return body


def expect_invalid(api: httpx.Client, body: Any, words: str, path: str = GENERATE) -> dict[str, Any]:
    answer = api.post(path, json=body)
    assert answer.status_code == 400, answer.text
    payload = answer.json()
    assert payload["data"] is None
    assert set(payload["error"]) == {"code", "message"}
    assert words in payload["error"]["message"], payload["error"]["message"]
    error: dict[str, Any] = payload["error"]
    return error


BAD_BODIES = {
    "no scenes": (video_body(video_inputs=[]), "video_inputs"),
    "51 scenes": (video_body(video_inputs=VALID_BODY["video_inputs"] * 51), "1 to 50"),
    "no character": (with_scene(character=None), "character is required"),
    "avatar without id": (with_scene(character={"avatar_id": None}), "avatar_id is required"),
    "talking photo without id": (
        with_scene(character={"type": "talking_photo", "avatar_id": None}),
        "talking_photo_id is required",
    ),
    "bad style": (with_scene(character={"avatar_style": "closeup"}), "avatar_style must be one of"),
    "scale too big": (with_scene(character={"scale": 5.5}), "scale must be between 0 and 5"),
    "text voice without voice_id": (with_scene(voice={"voice_id": None}), "voice_id is required"),
    "text too long": (with_scene(voice={"input_text": "x" * 5001}), "at most 5000 characters"),
    "speed too slow": (with_scene(voice={"speed": 0.4}), "speed must be between 0.5 and 1.5"),
    "pitch not an integer": (with_scene(voice={"pitch": 1.5}), "pitch must be an integer"),
    "pitch too high": (with_scene(voice={"pitch": 51}), "pitch must be between -50 and 50"),
    "unknown emotion": (with_scene(voice={"emotion": "Angry"}), "emotion must be one of"),
    "audio with both sources": (
        with_scene(voice={"type": "audio", "audio_url": "https://a/b.mp3", "audio_asset_id": "x"}),
        "exactly one of audio_url or audio_asset_id",
    ),
    "audio with no source": (with_scene(voice={"type": "audio"}), "exactly one of audio_url"),
    "silence without duration": (with_scene(voice={"type": "silence"}), "duration is required"),
    "bad colour": (with_scene(background={"type": "color", "value": "green"}), "hex colour"),
    "image without source": (with_scene(background={"type": "image"}), "exactly one of url or image_asset_id"),
    "odd width": (video_body(dimension={"width": 1281, "height": 720}), "dimension.width must be an even"),
    "height too small": (video_body(dimension={"width": 1280, "height": 100}), "between 128 and 4096"),
    "caption not a boolean": (video_body(caption="yes"), "caption must be a boolean"),
    "title not a string": (video_body(title=7), "title must be a string"),
    "callback_url not http": (video_body(callback_url="ftp://x"), "callback_url"),
    "4K on the pro plan": (video_body(dimension={"width": 3840, "height": 2160}), "not available on the pro plan"),
    "not an object": ([1, 2], "JSON object"),
    "unknown magic marker": (video_body(title="emulator:explode"), "unknown emulator marker"),
}


@pytest.mark.parametrize(("body", "words"), list(BAD_BODIES.values()), ids=list(BAD_BODIES))
def test_bad_requests_get_a_400_naming_the_problem(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, body: Any, words: str
) -> None:
    heygen_emulator.update_settings(plan="pro")  # 1080p at most, for the 4K case
    assert expect_invalid(api, body, words)["code"] == "invalid_parameter"


def test_invalid_json_is_a_400(api: httpx.Client) -> None:
    answer = api.post(GENERATE, content=b"{not json", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_parameter"


GOOD_VARIANTS = {
    "talking photo": with_scene(character={"type": "talking_photo", "avatar_id": None, "talking_photo_id": "p1"}),
    "audio voice": with_scene(voice={"type": "audio", "audio_asset_id": "asset-1"}),
    "silence voice": with_scene(voice={"type": "silence", "duration": 2.5}),
    "all voice options": with_scene(voice={"speed": 1.5, "pitch": -50, "emotion": "Broadcaster", "locale": "en-US"}),
    "image background": with_scene(background={"type": "image", "url": "https://x/y.png", "fit": "cover"}),
    "video background": with_scene(background={"type": "video", "video_asset_id": "v", "play_style": "loop"}),
    "colour background": with_scene(background={"type": "color", "value": "#008000"}),
    "portrait 1080p": video_body(dimension={"width": 1080, "height": 1920}),
    "every top-level field": video_body(
        caption=True,
        title="t",
        callback_id="c",
        callback_url="https://example.invalid/hook",
        test=True,
        folder_id="f",
    ),
    "character options": with_scene(
        character={
            "avatar_style": "closeUp",
            "scale": 0,
            "offset": {"x": 0.1, "y": -0.2},
            "talking_style": "expressive",
            "expression": "happy",
            "matting": True,
            "use_avatar_iv_model": True,
        }
    ),
}


@pytest.mark.parametrize("body", list(GOOD_VARIANTS.values()), ids=list(GOOD_VARIANTS))
def test_valid_variants_are_accepted(api: httpx.Client, body: dict[str, Any]) -> None:
    answer = api.post(GENERATE, json=body)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["data"]["video_id"]) == 32


def test_any_avatar_is_accepted_unless_the_catalogue_is_strict(
    heygen_emulator: HeyGenEmulator, api: httpx.Client
) -> None:
    custom = with_scene(character={"avatar_id": "my_custom_avatar"})
    assert api.post(GENERATE, json=custom).status_code == 200
    heygen_emulator.update_settings(strict_catalogue=True)
    assert expect_invalid(api, custom, "my_custom_avatar not found")["code"] == "avatar_not_found"
    unknown_voice = with_scene(voice={"voice_id": "nobody"})
    assert expect_invalid(api, unknown_voice, "Voice nobody not found")["code"] == "voice_not_found"
    assert api.post(GENERATE, json=video_body()).status_code == 200


def test_enterprise_plan_allows_4k(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.update_settings(plan="enterprise")
    assert api.post(GENERATE, json=video_body(dimension={"width": 3840, "height": 2160})).status_code == 200


def test_avatar_iv_endpoint_validates_its_own_fields(api: httpx.Client) -> None:
    body = {"image_key": "image/abc", "video_title": "Photo", "script": "Hello from a photo.", "voice_id": "v1"}
    created = api.post("/v2/video/av4/generate", json=body)
    assert created.status_code == 200 and created.json()["error"] is None
    expect_invalid(api, {**body, "image_key": None}, "image_key is required", path="/v2/video/av4/generate")
    bad_orientation = {**body, "video_orientation": "diagonal"}
    expect_invalid(api, bad_orientation, "video_orientation must be one of", path="/v2/video/av4/generate")
