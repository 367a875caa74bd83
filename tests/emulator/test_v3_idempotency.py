"""``Idempotency-Key`` on v3 mutations: replays, 409 while in flight, scoping, expiry and the request log."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from heygen_provider.testing.emulator import HeyGenEmulator

from .helpers import V3_VIDEOS, v3_body, v3_error

KEY = "airflow:dag_1:run_1:task_1.try-1"


def post(api: httpx.Client, key: str | None = KEY, **fields: object) -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": key}
    return api.post(V3_VIDEOS, json=v3_body(**fields), headers=headers)


def test_a_repeat_replays_the_first_answer_without_creating_anything(
    heygen_emulator: HeyGenEmulator, api: httpx.Client
) -> None:
    first = post(api)
    # Even with a slightly different body, as on HeyGen (which only logs a warning).
    second = post(api, title="Edited title")
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len(heygen_emulator.videos()) == 1

    original, replay = heygen_emulator.requests(idempotency_key=KEY)
    video_id = first.json()["data"]["video_id"]
    assert (original.idempotent_replay, original.video_id) == (False, video_id)
    assert (replay.idempotent_replay, replay.video_id, replay.status) == (True, video_id, 200)
    assert heygen_emulator.idempotent_replays() == [replay]
    assert heygen_emulator.idempotent_replays(path="/v3/assets") == []


def test_without_a_key_every_post_creates_a_video(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    post(api, key=None)
    post(api, key=None)
    assert len(heygen_emulator.videos()) == 2
    assert [entry.idempotency_key for entry in heygen_emulator.requests()] == [None, None]


def test_keys_are_scoped_by_path(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    post(api, key="shared-key")
    reservation = {"filename": "a.png", "content_type": "image/png", "size_bytes": 9}
    again = api.post("/v3/assets/direct-uploads", json=reservation, headers={"Idempotency-Key": "shared-key"})
    # The same key on another endpoint is another request.
    assert again.status_code == 200 and "asset_id" in again.json()["data"]
    assert not heygen_emulator.idempotent_replays()


@pytest.mark.parametrize("key", ["", "a" * 256, "has space", "slash/key", "ünicode"], ids=str)
def test_malformed_keys_are_a_400_naming_the_header(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, key: str
) -> None:
    answer = api.post(V3_VIDEOS, json=v3_body(), headers={"Idempotency-Key": key.encode()})
    error = v3_error(answer, 400)
    assert (error["code"], error["param"]) == ("invalid_parameter", "Idempotency-Key")
    assert heygen_emulator.videos() == []


def test_the_longest_key_and_every_allowed_character_are_accepted(api: httpx.Client) -> None:
    assert post(api, key="A-z_0.9:" + "k" * 247).status_code == 200


def test_a_timed_out_create_is_safe_to_send_again(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    # The gateway times out after HeyGen created the video: the client never sees its id.
    heygen_emulator.add_fault("gateway_timeout", method="POST", path=V3_VIDEOS, process=True)
    assert post(api).status_code == 504
    retry = post(api)
    assert retry.status_code == 200
    [video] = heygen_emulator.videos()
    assert retry.json()["data"]["video_id"] == video["video_id"]
    assert [entry.idempotent_replay for entry in heygen_emulator.requests(idempotency_key=KEY)] == [False, True]


def test_a_dropped_connection_after_processing_is_safe_to_send_again(
    heygen_emulator: HeyGenEmulator, api: httpx.Client
) -> None:
    heygen_emulator.add_fault("drop", method="POST", path=V3_VIDEOS, process=True)
    with pytest.raises(httpx.RemoteProtocolError):
        post(api)
    assert post(api).json()["data"]["video_id"] == heygen_emulator.videos()[0]["video_id"]


def test_answers_that_did_no_work_are_not_kept(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.add_fault("service_unavailable", method="POST", path=V3_VIDEOS)
    assert post(api).status_code == 503  # refused in front of the application
    assert post(api, voice_settings={"speed": 9}).status_code == 400  # refused by validation
    assert post(api).status_code == 200  # now the work is done
    assert post(api).headers["Idempotent-Replayed"] == "true"
    assert len(heygen_emulator.videos()) == 1


def _in_background(api: httpx.Client, answers: list[httpx.Response], **fields: object) -> threading.Thread:
    thread = threading.Thread(target=lambda: answers.append(post(api, **fields)))
    thread.start()
    return thread


def _wait_for_the_first_request(heygen_emulator: HeyGenEmulator) -> None:
    deadline = time.monotonic() + 5
    while not heygen_emulator.requests(method="POST") and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_repeat_while_the_first_is_in_flight_gets_409(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.add_fault("slow", method="POST", path=V3_VIDEOS, delay_seconds=1.5)
    answers: list[httpx.Response] = []
    first = _in_background(api, answers)
    _wait_for_the_first_request(heygen_emulator)
    with httpx.Client(base_url=heygen_emulator.base_url, headers=dict(api.headers), trust_env=False) as other:
        error = v3_error(post(other), 409)
    assert (error["code"], error["param"]) == ("request_in_progress", "Idempotency-Key")
    first.join(10)
    assert answers[0].status_code == 200
    # Once the first answer has been sent, a repeat replays it.
    assert post(api).json() == answers[0].json()
    assert len(heygen_emulator.videos()) == 1
    statuses = [(entry.status, entry.idempotent_replay) for entry in heygen_emulator.requests(idempotency_key=KEY)]
    assert statuses == [(200, False), (409, False), (200, True)]


def test_create_delay_seconds_keeps_creates_in_flight(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.update_settings(create_delay_seconds=1.5)
    answers: list[httpx.Response] = []
    first = _in_background(api, answers)
    _wait_for_the_first_request(heygen_emulator)
    # The video exists before its create answers, as on HeyGen (p50 3.9 s, p99 30.8 s).
    assert len(heygen_emulator.videos()) == 1
    with pytest.raises(httpx.ReadTimeout):
        api.post(V3_VIDEOS, json=v3_body(), timeout=0.2)
    assert post(api).status_code == 409
    first.join(10)
    assert answers[0].status_code == 200
    assert len(heygen_emulator.videos()) == 2  # the keyless POST that timed out created one too


def test_a_slow_create_whose_client_gave_up_replays_once_done(
    heygen_emulator: HeyGenEmulator, api: httpx.Client
) -> None:
    heygen_emulator.add_fault("slow", method="POST", path=V3_VIDEOS, delay_seconds=1.2)
    with pytest.raises(httpx.ReadTimeout):
        api.post(V3_VIDEOS, json=v3_body(), headers={"Idempotency-Key": KEY}, timeout=0.1)
    assert post(api).status_code == 409
    time.sleep(1.2)
    replay = post(api)
    assert replay.status_code == 200
    assert replay.json()["data"]["video_id"] == heygen_emulator.videos()[0]["video_id"]


def test_answers_are_replayed_for_24_hours(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    first = post(api).json()
    heygen_emulator.advance_time(23.9 * 3600)
    assert post(api).json() == first
    heygen_emulator.advance_time(0.2 * 3600)
    later = post(api).json()
    assert later["data"]["video_id"] != first["data"]["video_id"]
    assert len(heygen_emulator.videos()) == 2


def test_reset_forgets_the_keys(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    post(api)
    heygen_emulator.reset()
    assert "Idempotent-Replayed" not in post(api).headers


def test_other_v3_mutations_honour_the_key(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    video_id = post(api, key=None).json()["data"]["video_id"]
    headers = {"Idempotency-Key": "delete-1"}
    first = api.delete(f"{V3_VIDEOS}/{video_id}", headers=headers)
    again = api.delete(f"{V3_VIDEOS}/{video_id}", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    # Without the key, the second delete finds nothing.
    assert v3_error(api.delete(f"{V3_VIDEOS}/{video_id}"), 404)["code"] == "video_not_found"
