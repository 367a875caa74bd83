"""``POST /v3/videos``: HeyGen's published schema, the rules its text states, and scenarios on v3 paths."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from heygen_provider.testing.emulator import HeyGenEmulator

from .helpers import DAISY, PHOTO_LOOK, RACHEL, V3_VIDEOS, create_v3, v3_body, v3_error, v3_video

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(64)
IMAGE_URL = {"type": "url", "url": "https://files.example/portrait.png"}
SPEECH = {"script": "A scene of the studio video.", "voice_id": RACHEL}

VALID_BODIES: dict[str, dict[str, Any]] = {
    "avatar-minimal": v3_body(),
    "avatar-default-voice": v3_body(voice_id=None),
    "avatar-audio-url": v3_body(script=None, voice_id=None, audio_url="https://files.example/voice.mp3"),
    "avatar-everything": v3_body(
        engine={"type": "avatar_v", "reference_look_id": None},
        motion_prompt="waves at the start",
        voice_settings={"speed": 1.5, "pitch": -50, "volume": 0, "locale": "en-GB"},
        resolution="1080p",
        aspect_ratio="9:16",
        fit="cover",
        background={"type": "color", "value": "#1a2b3c"},
        remove_background=False,
        caption={"file_format": "srt", "style": "default"},
        title="Quarterly update",
        callback_url="https://hooks.example/heygen",
        callback_id="run-1",
        expressiveness=None,
    ),
    "avatar-nulls": v3_body(engine=None, background=None, caption=None, output_format="mp4", title=None),
    "image-url": {"type": "image", "image": IMAGE_URL, **SPEECH},
    "image-base64": {
        "type": "image",
        "image": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(PNG_BYTES).decode()},
        "audio_asset_id": "asset-1",
        "expressiveness": "high",
    },
    "studio": {
        "type": "studio",
        "scenes": [
            {"type": "avatar_video", "input": {"type": "avatar", "avatar_id": DAISY, **SPEECH}},
            {"type": "avatar_video", "input": {"type": "image", "image": IMAGE_URL, **SPEECH}},
            {"type": "image", "source": IMAGE_URL, "duration": 3},
            {"type": "image", "source": {"type": "asset_id", "asset_id": "a-1"}, **SPEECH},
            {"type": "video", "source": {"type": "url", "url": "https://files.example/b-roll.mp4"}},
        ],
        "caption": {},
    },
    "cinematic": {"type": "cinematic_avatar", "prompt": "A product launch on a rooftop", "avatar_id": [DAISY]},
    "webm": v3_body(output_format="webm"),
}


@pytest.mark.parametrize("body", list(VALID_BODIES.values()), ids=list(VALID_BODIES))
def test_valid_bodies_of_every_type_are_accepted(api: httpx.Client, body: dict[str, Any]) -> None:
    answer = api.post(V3_VIDEOS, json=body)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert set(data) == {"video_id", "status", "output_format"}
    assert data["status"] == "waiting"
    assert data["output_format"] == body.get("output_format", "mp4")
    assert len(data["video_id"]) == 32


TOO_MANY_SCENES = [{"type": "image", "source": IMAGE_URL, "duration": 1}] * 51

REFUSED: dict[str, tuple[Any, str | None, str]] = {
    # The schema's shape: the discriminator picks the arm, so errors name the field.
    "no-type": ({"avatar_id": DAISY}, "type", "type is required"),
    "unknown-type": (v3_body(type="hologram"), "type", "must be one of avatar, cinematic_avatar, image, studio"),
    "not-an-object": (["avatar"], None, "must be an object"),
    "avatar-id-missing": (v3_body(avatar_id=None), "avatar_id", "is required"),
    "image-missing": ({"type": "image", **SPEECH}, "image", "is required"),
    "image-type-unknown": ({"type": "image", "image": {"type": "file"}, **SPEECH}, "image.type", "must be one of"),
    "base64-needs-data": (
        {"type": "image", "image": {"type": "base64", "media_type": "image/png"}, **SPEECH},
        "image.data",
        "is required",
    ),
    "engine-unknown": (v3_body(engine={"type": "avatar_ii"}), "engine.type", "avatar_iii, avatar_iv, avatar_v"),
    "speed-not-number": (v3_body(voice_settings={"speed": "fast"}), "voice_settings.speed", "must be a number"),
    "resolution-enum": (v3_body(resolution="8k"), "resolution", "must be one of 4k, 1080p, 720p"),
    "aspect-enum": (v3_body(aspect_ratio="2:1"), "aspect_ratio", "must be one of"),
    "output-format-enum": (v3_body(output_format="mov"), "output_format", "must be one of mp4, webm"),
    "script-not-string": (v3_body(script=42), "script", "must be a string"),
    "scene-input-missing": ({"type": "studio", "scenes": [{"type": "avatar_video"}]}, "scenes[0].input", "required"),
    "scene-source-type": (
        {"type": "studio", "scenes": [{"type": "avatar_video", "input": {"type": "robot"}}]},
        "scenes[0].input.type",
        "must be one of avatar, image",
    ),
    "studio-colour-background": (
        {
            "type": "studio",
            "scenes": [
                {
                    "type": "avatar_video",
                    "input": {"type": "avatar", "avatar_id": DAISY, **SPEECH, "background": {"type": "image"}},
                }
            ],
        },
        "scenes[0].input.background.type",
        "must be one of color",
    ),
    # The rules HeyGen's schema states in words.
    "script-too-long": (v3_body(script="x" * 5001), "script", "at most 5000 characters"),
    "script-and-audio": (v3_body(audio_url="https://files.example/a.mp3"), "audio_url", "mutually exclusive"),
    "no-speech": (v3_body(script=None), "script", "exactly one of script, audio_url or audio_asset_id"),
    "image-script-needs-voice": ({"type": "image", "image": IMAGE_URL, "script": "Hi"}, "voice_id", "required"),
    "photo-look-has-no-default-voice": (v3_body(avatar_id=PHOTO_LOOK, voice_id=None), "voice_id", "required"),
    "speed-range": (v3_body(voice_settings={"speed": 1.6}), "voice_settings.speed", "between 0.5 and 1.5"),
    "pitch-range": (v3_body(voice_settings={"pitch": 51}), "voice_settings.pitch", "between -50 and 50"),
    "volume-range": (v3_body(voice_settings={"volume": 1.1}), "voice_settings.volume", "between 0 and 1"),
    "webm-rejects-background": (
        v3_body(output_format="webm", background={"type": "color", "value": "#000000"}),
        "background",
        "webm",
    ),
    "background-hex": (v3_body(background={"type": "color", "value": "red"}), "background.value", "hex"),
    "background-one-source": (v3_body(background={"type": "image"}), "background.url", "exactly one of url"),
    "engine-not-for-image": (
        {"type": "image", "image": IMAGE_URL, **SPEECH, "engine": {"type": "avatar_iv"}},
        "engine",
        "not supported for type image",
    ),
    "avatar-iii-no-motion": (
        v3_body(engine={"type": "avatar_iii"}, motion_prompt="nods"),
        "motion_prompt",
        "avatar_iii",
    ),
    "avatar-v-no-expressiveness": (
        v3_body(engine={"type": "avatar_v"}, expressiveness="high"),
        "expressiveness",
        "avatar_v",
    ),
    "studio-no-scenes": ({"type": "studio", "scenes": []}, "scenes", "1 to 50"),
    "studio-51-scenes": ({"type": "studio", "scenes": TOO_MANY_SCENES}, "scenes", "1 to 50"),
    "studio-still-needs-duration": (
        {"type": "studio", "scenes": [{"type": "image", "source": IMAGE_URL}]},
        "scenes[0].duration",
        "silent image scene",
    ),
    "studio-scene-script-too-long": (
        {
            "type": "studio",
            "scenes": [{"type": "avatar_video", "input": {"type": "avatar", "avatar_id": DAISY, "script": "x" * 5001}}],
        },
        "scenes[0].input.script",
        "at most 5000",
    ),
    "base64-not-an-image": (
        {"type": "image", "image": {"type": "base64", "media_type": "image/gif", "data": "R0lG"}, **SPEECH},
        "image.media_type",
        "image/png or image/jpeg",
    ),
    "base64-garbage": (
        {"type": "image", "image": {"type": "base64", "media_type": "image/png", "data": "not base64!"}, **SPEECH},
        "image.data",
        "base64",
    ),
    "cinematic-four-avatars": (
        {"type": "cinematic_avatar", "prompt": "p", "avatar_id": [DAISY] * 4},
        "avatar_id",
        "1 to 3",
    ),
    "cinematic-duration": (
        {"type": "cinematic_avatar", "prompt": "p", "avatar_id": [DAISY], "duration": 20},
        "duration",
        "between 4 and 15",
    ),
    "callback-url-scheme": (v3_body(callback_url="ftp://hooks.example/x"), "callback_url", "http or https"),
    "resolution-above-plan": (v3_body(resolution="4k"), "resolution", "not available on the pro plan"),
    "unknown-marker": (v3_body(title="emulator:meteor"), "title", "unknown emulator marker"),
}


@pytest.mark.parametrize(("body", "param", "message"), list(REFUSED.values()), ids=list(REFUSED))
def test_refused_bodies_name_the_field_in_v3s_400(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, body: Any, param: str | None, message: str
) -> None:
    heygen_emulator.update_settings(plan="pro")  # 1080p at most, for the resolution case
    error = v3_error(api.post(V3_VIDEOS, json=body), 400)
    assert error["code"] == "invalid_parameter"
    assert error["param"] == param
    assert message in error["message"]
    assert error["doc_url"].startswith("https://")
    assert heygen_emulator.videos() == []


def test_a_body_that_is_not_json_is_a_400(api: httpx.Client) -> None:
    error = v3_error(api.post(V3_VIDEOS, content=b"{", headers={"Content-Type": "application/json"}), 400)
    assert error["code"] == "invalid_parameter" and "not JSON" in error["message"]


def test_strict_catalogue_checks_avatars_voices_and_assets(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.update_settings(strict_catalogue=True)
    assert v3_error(api.post(V3_VIDEOS, json=v3_body(avatar_id="my-own-twin")), 400)["param"] == "avatar_id"
    assert v3_error(api.post(V3_VIDEOS, json=v3_body(voice_id="nobody")), 400)["param"] == "voice_id"
    unknown_asset = v3_body(script=None, audio_asset_id="0" * 32)
    assert v3_error(api.post(V3_VIDEOS, json=unknown_asset), 400)["param"] == "audio_asset_id"
    scene = {"type": "avatar_video", "input": {"type": "avatar", "avatar_id": "x"}}
    studio_avatar = {"type": "studio", "scenes": [scene]}
    assert v3_error(api.post(V3_VIDEOS, json=studio_avatar), 400)["param"] == "scenes[0].input.avatar_id"
    # Catalogue ids pass, and so do motion prompts only where HeyGen allows them.
    create_v3(api)
    video_avatar_motion = v3_body(motion_prompt="nods")
    assert v3_error(api.post(V3_VIDEOS, json=video_avatar_motion), 400)["param"] == "motion_prompt"
    create_v3(api, motion_prompt="nods", engine={"type": "avatar_v"})
    create_v3(api, avatar_id=PHOTO_LOOK, motion_prompt="nods")


def test_by_default_any_avatar_and_voice_id_is_accepted(api: httpx.Client) -> None:
    create_v3(api, avatar_id="my-own-digital-twin", voice_id="my-cloned-voice")


def test_the_render_moves_through_v3_states(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.update_settings(pending_seconds=5, render_seconds=100)
    video = create_v3(api)
    assert v3_video(api, video)["status"] == "pending"
    heygen_emulator.advance_time(6)
    # v3 never makes a job wait for a render slot (it refuses one beyond them: test_v3_slots.py).
    assert v3_video(api, video)["status"] == "processing"
    heygen_emulator.advance_time(100)
    assert v3_video(api, video)["status"] == "completed"


@pytest.mark.parametrize(
    ("marker", "code"),
    [("emulator:fail", "40119"), ("emulator:fail-credit", "MOVIO_PAYMENT_INSUFFICIENT_CREDIT")],
)
def test_magic_values_in_title_or_callback_id_work_on_v3(api: httpx.Client, marker: str, code: str) -> None:
    for field in ("title", "callback_id"):
        data = v3_video(api, create_v3(api, **{field: f"Weekly report {marker}"}))
        assert (data["status"], data["failure_code"]) == ("failed", code)
        assert data["failure_message"]


def test_magic_create_fault_and_poll_fault_answer_in_v3_shape(
    heygen_emulator: HeyGenEmulator, api: httpx.Client
) -> None:
    answer = api.post(V3_VIDEOS, json=v3_body(title="emulator:server_error"))
    assert v3_error(answer, 500)["code"] == "internal_error"
    assert heygen_emulator.videos() == []
    video_id = create_v3(api, title="emulator:poll=service_unavailable*2 emulator:size=2MB")
    codes = [api.get(f"{V3_VIDEOS}/{video_id}").status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert heygen_emulator.videos()[0]["size_bytes"] == 2 * 1024 * 1024


def test_admin_render_faults_match_the_v3_create(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.add_fault("render_failed_credit")
    heygen_emulator.add_fault("render_stuck")
    failed, stuck = create_v3(api), create_v3(api)
    assert v3_video(api, failed)["failure_code"] == "MOVIO_PAYMENT_INSUFFICIENT_CREDIT"
    heygen_emulator.advance_time(10 * 24 * 3600)
    assert v3_video(api, stuck)["status"] == "processing"


def test_a_failure_without_a_reason(api: httpx.Client) -> None:
    data = v3_video(api, create_v3(api, title="emulator:fail-no-reason"))
    assert (data["status"], data["failure_code"], data["failure_message"]) == ("failed", None, None)


def test_admin_http_faults_on_v3_paths_use_v3_shapes(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.add_fault("rate_limited", method="POST", path=V3_VIDEOS, retry_after_seconds=9)
    heygen_emulator.add_fault("payment_required", method="POST", path=V3_VIDEOS)
    heygen_emulator.add_fault("unauthorized", method="POST", path=V3_VIDEOS)
    limited = api.post(V3_VIDEOS, json=v3_body())
    assert v3_error(limited, 429)["code"] == "rate_limit_exceeded" and limited.headers["Retry-After"] == "9"
    assert v3_error(api.post(V3_VIDEOS, json=v3_body()), 402)["code"] == "insufficient_credit"
    assert v3_error(api.post(V3_VIDEOS, json=v3_body()), 401)["code"] == "unauthorized"
    assert heygen_emulator.videos() == []
    heygen_emulator.add_fault("server_error", path="/v3/*")
    assert v3_error(api.get(f"{V3_VIDEOS}/{'0' * 32}"), 500)["code"] == "internal_error"


def test_a_fault_after_processing_creates_the_video_on_v3(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.add_fault("gateway_timeout", method="POST", path=V3_VIDEOS, process=True)
    assert api.post(V3_VIDEOS, json=v3_body()).status_code == 504
    [video] = heygen_emulator.videos()
    assert heygen_emulator.requests(method="POST", path=V3_VIDEOS)[0].video_id == video["video_id"]


def test_an_empty_balance_is_a_402_at_create_time(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.update_settings(remaining_quota=0.0)
    error = v3_error(api.post(V3_VIDEOS, json=v3_body()), 402)
    assert error["code"] == "insufficient_credit"
    assert heygen_emulator.videos() == []
    # A balance that is merely short still fails at poll time, as on the legacy API.
    heygen_emulator.update_settings(remaining_quota=1.0)
    assert v3_video(api, create_v3(api))["failure_code"] == "MOVIO_PAYMENT_INSUFFICIENT_CREDIT"


def test_the_request_log_keeps_the_v3_body(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    video_id = create_v3(api, callback_id="run-7")
    [post] = heygen_emulator.requests(method="POST", path=V3_VIDEOS)
    assert (post.status, post.video_id, post.json) == (200, video_id, v3_body(callback_id="run-7"))
    assert (post.idempotency_key, post.idempotent_replay, post.bulk_ids) == (None, False, None)
