"""Render progression, the status envelopes, plan limits and the concurrency queue."""

from __future__ import annotations

import httpx

from heygen_provider.testing.emulator import HeyGenEmulator

from .helpers import STATUS, create_video, status_of, video_body

NULL_UNTIL_DONE = (
    "video_url",
    "video_url_caption",
    "thumbnail_url",
    "gif_url",
    "caption_url",
    "duration",
    "created_at",
    "callback_id",
    "error",
)


def test_video_moves_through_pending_waiting_processing_completed(
    heygen_emulator: HeyGenEmulator, api: httpx.Client
) -> None:
    heygen_emulator.update_settings(plan="free", pending_seconds=5, render_seconds=100)
    first = create_video(api, callback_id="first")
    second = create_video(api, callback_id="second")

    assert status_of(api, first)["status"] == "pending"
    heygen_emulator.advance_time(6)
    # One render slot on the free plan: the second job queues behind the first instead of failing.
    assert status_of(api, first)["status"] == "processing"
    assert status_of(api, second)["status"] == "waiting"
    heygen_emulator.advance_time(100)
    assert status_of(api, first)["status"] == "completed"
    assert status_of(api, second)["status"] == "processing"
    heygen_emulator.advance_time(100)
    assert status_of(api, second)["status"] == "completed"


def test_fields_are_null_until_the_render_is_done(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.update_settings(render_seconds=60)
    video_id = create_video(api, callback_id="order-17")

    running = status_of(api, video_id)
    assert running["id"] == video_id
    assert running["status"] == "processing"
    assert {name: running[name] for name in NULL_UNTIL_DONE} == dict.fromkeys(NULL_UNTIL_DONE)

    heygen_emulator.advance_time(61)
    done = status_of(api, video_id)
    assert done["status"] == "completed"
    assert done["callback_id"] == "order-17"
    assert done["error"] is None
    assert done["duration"] > 0
    assert isinstance(done["created_at"], int)
    assert done["video_url"].startswith(heygen_emulator.base_url + "/media/videos/")
    # Captions were not asked for.
    assert done["caption_url"] is None and done["video_url_caption"] is None


def test_concurrency_limit_of_the_pro_plan_runs_three_at_once(
    heygen_emulator: HeyGenEmulator, api: httpx.Client
) -> None:
    heygen_emulator.update_settings(plan="pro", render_seconds=50)
    videos = [create_video(api) for _ in range(5)]
    heygen_emulator.advance_time(1)
    assert [status_of(api, video)["status"] for video in videos] == ["processing"] * 3 + ["waiting"] * 2
    heygen_emulator.advance_time(50)
    assert [status_of(api, video)["status"] for video in videos] == ["completed"] * 3 + ["processing"] * 2


def test_scale_plan_runs_six_at_once(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.update_settings(plan="scale", render_seconds=50)
    videos = [create_video(api) for _ in range(7)]
    statuses = [status_of(api, video)["status"] for video in videos]
    assert statuses == ["processing"] * 6 + ["waiting"]


def test_unknown_video_is_a_404_with_a_legacy_body(api: httpx.Client) -> None:
    answer = api.get(STATUS, params={"video_id": "0" * 32})
    assert answer.status_code == 404
    body = answer.json()
    assert body["code"] == 404 and body["data"] is None and "not found" in body["message"].lower()


def test_missing_video_id_is_refused_as_invalid_parameters(api: httpx.Client) -> None:
    answer = api.get(STATUS)
    assert answer.status_code == 424
    assert "video_id" in answer.json()["message"]


def test_v3_status_uses_v3_field_names(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.update_settings(pending_seconds=10, render_seconds=10)
    video_id = create_video(api, title="Launch", caption=True)
    # HeyGen's VideoGet schema: pending|processing|completed|failed (the bulk endpoint says queued).
    pending = api.get(f"/v3/videos/{video_id}").json()["data"]
    assert pending["status"] == "pending" and pending["video_url"] is None

    heygen_emulator.advance_time(25)
    done = api.get(f"/v3/videos/{video_id}").json()
    assert set(done) == {"data"}
    data = done["data"]
    assert data["status"] == "completed" and data["title"] == "Launch"
    assert data["captioned_video_url"].endswith(("K2HEYGENEMULATOR",))
    assert "/media/captions/" in data["subtitle_url"]
    assert data["failure_code"] is None and data["failure_message"] is None

    missing = api.get("/v3/videos/" + "f" * 32)
    assert missing.status_code == 404
    assert missing.json()["error"]["param"] == "video_id"


def test_video_too_long_for_the_plan_fails_at_poll_time(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.update_settings(plan="free")
    long_script = "word " * 999  # about 5,000 characters: over five minutes of speech
    scenes = [
        {
            "character": {"type": "avatar", "avatar_id": "a"},
            "voice": {"type": "text", "voice_id": "v", "input_text": long_script},
        }
    ]
    answer = api.post("/v2/video/generate", json=video_body(video_inputs=scenes))
    assert answer.status_code == 200
    data = status_of(api, answer.json()["data"]["video_id"])
    assert data["status"] == "failed"
    assert data["error"]["code"] == 40119
    assert "too long" in data["error"]["message"]


def test_quota_runs_out_at_poll_time_not_at_create_time(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.update_settings(remaining_quota=6.0)
    quota = api.get("/v2/user/remaining_quota").json()
    assert quota == {"error": None, "data": {"remaining_quota": 6.0, "details": {"api": 6.0}}}

    first = create_video(api)  # about five seconds of speech
    second = create_video(api)
    assert status_of(api, first)["status"] == "completed"
    failed = status_of(api, second)
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "MOVIO_PAYMENT_INSUFFICIENT_CREDIT"
    assert api.get("/v2/user/remaining_quota").json()["data"]["remaining_quota"] < 6.0


def test_test_videos_do_not_use_quota(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.update_settings(remaining_quota=1.0)
    video_id = create_video(api, test=True)
    assert status_of(api, video_id)["status"] == "completed"
    assert api.get("/v2/user/remaining_quota").json()["data"]["remaining_quota"] == 1.0


def test_catalogue_and_account_endpoints_use_the_real_envelopes(api: httpx.Client) -> None:
    avatars = api.get("/v2/avatars").json()
    assert avatars["error"] is None
    assert avatars["data"]["avatars"][0]["avatar_id"]
    assert avatars["data"]["talking_photos"][0]["talking_photo_id"]
    voices = api.get("/v2/voices").json()
    assert voices["error"] is None and voices["data"]["voices"][0]["voice_id"]
    me = api.get("/v1/user/me").json()
    assert me["code"] == 100 and me["message"] == "Success" and me["data"]["email"]
    assert api.get("/v3/users/me").json()["data"]["username"] == me["data"]["username"]


def test_reset_forgets_videos_and_restores_settings(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.update_settings(plan="free", render_seconds=30)
    video_id = create_video(api)
    heygen_emulator.reset()
    assert api.get(STATUS, params={"video_id": video_id}).status_code == 404
    assert heygen_emulator.current_settings()["plan"] == heygen_emulator.settings.plan
    assert heygen_emulator.videos() == []


def test_unknown_route_and_wrong_method(api: httpx.Client) -> None:
    assert api.get("/v2/nothing-here").status_code == 404
    wrong = api.get("/v2/video/generate")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"
