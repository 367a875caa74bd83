"""The request log tests assert on."""

from __future__ import annotations

import httpx

from heygen_provider.testing.emulator import HeyGenEmulator

from .helpers import GENERATE, STATUS, create_video, video_body


def test_exactly_one_post_for_one_video(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    video_id = create_video(api, callback_id="run-42")
    api.get(STATUS, params={"video_id": video_id})
    api.get(STATUS, params={"video_id": video_id})

    posts = heygen_emulator.requests(method="POST", path=GENERATE)
    assert len(posts) == 1
    post = posts[0]
    assert (post.status, post.video_id, post.authenticated) == (200, video_id, True)
    assert post.json == video_body(callback_id="run-42")
    assert post.query == {}

    polls = heygen_emulator.requests(method="GET", path=STATUS)
    assert [poll.query for poll in polls] == [{"video_id": video_id}] * 2
    assert all(poll.json is None for poll in polls)
    assert len(heygen_emulator.requests(video_id=video_id)) == 3


def test_entries_are_in_arrival_order_with_timestamps(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    api.get("/v2/avatars")
    heygen_emulator.advance_time(30)
    api.get("/v2/voices")
    first, second = heygen_emulator.requests()
    assert (first.path, second.path) == ("/v2/avatars", "/v2/voices")
    assert second.timestamp - first.timestamp >= 30


def test_refused_and_invalid_requests_are_logged_with_their_status(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    anonymous.post(GENERATE, json=video_body())
    api.post(GENERATE, json={"video_inputs": []})
    api.post(GENERATE, content=b"not json")
    statuses = [(entry.status, entry.authenticated) for entry in heygen_emulator.requests(method="POST")]
    assert statuses == [(401, False), (400, True), (400, True)]
    assert heygen_emulator.requests(method="POST")[-1].json == "not json"


def test_clear_and_limit(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    api.get("/v2/voices")
    heygen_emulator.clear_requests()
    assert heygen_emulator.requests() == []
    heygen_emulator.update_settings(request_log_limit=3)
    for _ in range(5):
        api.get("/v2/voices")
    assert len(heygen_emulator.requests()) == 3
