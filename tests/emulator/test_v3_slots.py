"""v3 refuses a create beyond the plan's concurrent video jobs (429 + Retry-After); the legacy API queues it.

HeyGen's usage-limits page: "Pay-As-You-Go: max concurrent video jobs 10 ... Exceeding the limit
returns 429 Too Many Requests with a Retry-After header" (``rate_limit_exceeded``).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from heygen_provider.testing.emulator import EmulatorSettings, HeyGenEmulator
from heygen_provider.testing.emulator.settings import DEFAULT_SLOT_RETRY_AFTER_SECONDS, PLANS
from tests.emulator.helpers import V3_VIDEOS, create_v3, create_video, status_of, v3_body, v3_error, v3_video

SLOTS = 2
RENDER_SECONDS = 100.0
TEMPLATE = "/v3/templates/tpl_weekly_update"
TEMPLATE_BODY: dict[str, Any] = {
    "variables": {"region": {"name": "region", "type": "text", "properties": {"content": "West"}}}
}


@pytest.fixture
def full(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> list[str]:
    """Every one of ``SLOTS`` render slots taken by a v3 render that runs ``RENDER_SECONDS``."""
    heygen_emulator.update_settings(concurrent_renders=SLOTS, render_seconds=RENDER_SECONDS)
    return [create_v3(api) for _ in range(SLOTS)]


def quota(api: httpx.Client) -> float:
    remaining: float = api.get("/v2/user/remaining_quota").json()["data"]["remaining_quota"]
    return remaining


def assert_refused_for_slots(answer: httpx.Response, retry_after: int) -> None:
    error = v3_error(answer, 429)
    assert error["code"] == "rate_limit_exceeded"
    assert f"at most {SLOTS} at once" in error["message"]
    assert answer.headers["Retry-After"] == str(retry_after)


def test_a_create_beyond_the_slots_is_refused_with_429_and_nothing_is_created_or_charged(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, full: list[str]
) -> None:
    before = quota(api)
    answer = api.post(V3_VIDEOS, json=v3_body(title="one too many"))
    assert_refused_for_slots(answer, DEFAULT_SLOT_RETRY_AFTER_SECONDS)
    assert [video["video_id"] for video in heygen_emulator.videos()] == full
    assert quota(api) == before
    assert [entry.status for entry in heygen_emulator.requests(method="POST", path=V3_VIDEOS)] == [200, 200, 429]


def test_a_slot_is_free_again_once_a_render_ends(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, full: list[str]
) -> None:
    v3_error(api.post(V3_VIDEOS, json=v3_body()), 429)
    heygen_emulator.advance_time(RENDER_SECONDS)
    assert v3_video(api, full[0])["status"] == "completed"
    started = create_v3(api)
    # The new job starts at once: v3 never queues it behind the others.
    assert v3_video(api, started)["status"] == "processing"


def test_a_pending_job_holds_its_slot_from_its_create(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.update_settings(concurrent_renders=1, pending_seconds=30, render_seconds=10)
    first = create_v3(api)
    assert v3_video(api, first)["status"] == "pending"
    assert v3_error(api.post(V3_VIDEOS, json=v3_body()), 429)["code"] == "rate_limit_exceeded"


def test_the_refused_key_is_not_kept_and_creates_the_video_once_a_slot_frees(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, full: list[str]
) -> None:
    key = "row-7-attempt"
    refused = api.post(V3_VIDEOS, json=v3_body(title="row 7"), headers={"Idempotency-Key": key})
    assert_refused_for_slots(refused, DEFAULT_SLOT_RETRY_AFTER_SECONDS)
    assert_refused_for_slots(
        api.post(V3_VIDEOS, json=v3_body(title="row 7"), headers={"Idempotency-Key": key}),
        DEFAULT_SLOT_RETRY_AFTER_SECONDS,
    )
    heygen_emulator.advance_time(RENDER_SECONDS)
    created = create_v3(api, key, title="row 7")
    assert created not in full
    assert [video["video_id"] for video in heygen_emulator.videos()] == [*full, created]
    # From now on the key replays that one video.
    assert create_v3(api, key, title="row 7") == created
    assert len(heygen_emulator.videos()) == SLOTS + 1


def test_a_template_create_is_refused_alike(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, full: list[str]
) -> None:
    before = quota(api)
    key = "template-row-1"
    assert_refused_for_slots(
        api.post(TEMPLATE, json=TEMPLATE_BODY, headers={"Idempotency-Key": key}), DEFAULT_SLOT_RETRY_AFTER_SECONDS
    )
    assert len(heygen_emulator.videos()) == SLOTS
    assert quota(api) == before
    heygen_emulator.advance_time(RENDER_SECONDS)
    answer = api.post(TEMPLATE, json=TEMPLATE_BODY, headers={"Idempotency-Key": key})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["id"] not in full


def test_the_retry_after_setting_is_honoured(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, full: list[str]
) -> None:
    heygen_emulator.update_settings(slot_retry_after_seconds=7)
    assert_refused_for_slots(api.post(V3_VIDEOS, json=v3_body()), 7)


def test_the_legacy_api_still_queues_beyond_the_slots(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, full: list[str]
) -> None:
    queued = create_video(api, callback_id="legacy")
    assert status_of(api, queued)["status"] == "waiting"
    heygen_emulator.advance_time(RENDER_SECONDS)
    assert status_of(api, queued)["status"] == "processing"
    # The legacy job holds a slot as well: one account, one set of slots.
    create_v3(api)
    v3_error(api.post(V3_VIDEOS, json=v3_body()), 429)


def test_invalid_requests_are_refused_for_what_they_are_before_the_slots(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, full: list[str]
) -> None:
    assert v3_error(api.post(V3_VIDEOS, json=v3_body(voice_id=None, script=None)), 400)["code"] != "rate_limit_exceeded"


def test_pay_as_you_go_has_ten_slots_and_is_the_default() -> None:
    assert PLANS["pay_as_you_go"].concurrent_renders == 10
    assert EmulatorSettings().limits.concurrent_renders == 10
    assert EmulatorSettings(plan="free", concurrent_renders=4).limits.concurrent_renders == 4


def test_the_pay_as_you_go_preset_refuses_the_eleventh_job(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.update_settings(plan="pay_as_you_go", render_seconds=RENDER_SECONDS)
    for _ in range(10):
        create_v3(api)
    assert v3_error(api.post(V3_VIDEOS, json=v3_body()), 429)["code"] == "rate_limit_exceeded"


@pytest.mark.parametrize(
    "changes",
    [
        {"concurrent_renders": 0},
        {"concurrent_renders": 1.5},
        {"slot_retry_after_seconds": -1},
        {"slot_retry_after_seconds": "5"},
    ],
)
def test_bad_slot_settings_are_refused_naming_the_field(changes: dict[str, Any]) -> None:
    (name,) = changes
    with pytest.raises(ValueError, match=name):
        EmulatorSettings().updated(changes)
