"""
Coalesced polling on v3: the status triggers of one event loop share one poller, which asks about up to
100 videos per bulk call and fetches each video alone only once it has ended. Real triggers, the real
aiohttp path and the emulator over loopback; calls counted in the emulator's request log.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pytest

from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.models import VideoGenerateRequest
from heygen_provider.models.event import VideoEvent
from heygen_provider.testing.emulator import HeyGenEmulator
from heygen_provider.triggers.heygen import HeyGenVideoStatusTrigger
from tests.fixtures.scenes import emulator_scene
from tests.fixtures.triggers import first_event

pytestmark = pytest.mark.integration

BULK = "/v3/videos/statuses"
POLL_INTERVAL = 0.3
#: Each video reads pending for over two intervals, then renders briefly.
PENDING_SECONDS = 0.7
RENDER_SECONDS = 0.1
#: A render slot for every video of the largest case: v3 refuses a create beyond the slots (429), and
#: these tests are about polling, not about waiting for a slot.
SLOTS = 250
REQUEST = VideoGenerateRequest.model_validate(
    {
        "video_inputs": [emulator_scene()],
        "title": "bulk polling",
    }
)


@pytest.fixture
def rendering(emulator: HeyGenEmulator) -> HeyGenEmulator:
    emulator.update_settings(render_seconds=RENDER_SECONDS, pending_seconds=PENDING_SECONDS, concurrent_renders=SLOTS)
    return emulator


def submit(count: int) -> list[str]:
    hook = HeyGenHook()
    return [
        hook.create_video(REQUEST, idempotency_key=f"bulk-test-{time.time_ns()}-{n}").video_id for n in range(count)
    ]


def trigger(video_id: str, end_in: float = 60.0) -> HeyGenVideoStatusTrigger:
    return HeyGenVideoStatusTrigger(video_id, poll_interval=POLL_INTERVAL, end_time=time.time() + end_in)


def wait_all(triggers: Iterable[HeyGenVideoStatusTrigger]) -> list[VideoEvent]:
    """All triggers on one event loop, as in a triggerer."""

    async def run() -> list[VideoEvent]:
        return list(await asyncio.gather(*(first_event(each) for each in triggers)))

    return asyncio.run(run())


def single_gets(emulator: HeyGenEmulator) -> Counter[str]:
    return Counter(
        entry.path.rsplit("/", 1)[1]
        for entry in emulator.requests(method="GET")
        if entry.path.startswith("/v3/videos/") and entry.path != BULK
    )


def polls_of(emulator: HeyGenEmulator) -> Counter[str]:
    return Counter(video_id for call in emulator.bulk_status_calls() for video_id in call.bulk_ids or ())


@pytest.mark.parametrize("count", [1, 100, 250])
def test_n_triggers_cost_ceil_n_over_100_bulk_calls_per_cycle(rendering: HeyGenEmulator, count: int) -> None:
    video_ids = submit(count)
    rendering.clear_requests()

    events = wait_all(trigger(video_id) for video_id in video_ids)

    assert [event.status for event in events] == ["success"] * count
    assert all(event.result["video_url"] for event in events)
    calls = rendering.bulk_status_calls()
    assert all(0 < len(call.bulk_ids or ()) <= 100 for call in calls)
    polls = polls_of(rendering)
    assert set(polls) == set(video_ids)
    cohorts = math.ceil(count / 100)
    # Each cohort asks about all its videos in one call per cycle: calls = cohorts x cycles.
    assert cohorts * min(polls.values()) <= len(calls) <= cohorts * max(polls.values())
    assert max(polls.values()) > 1, "the render outlasted one interval, so there were several cycles"
    # URLs come from one GET per video, once it has ended; never one GET per poll.
    assert single_gets(rendering) == Counter(video_ids)


def test_not_found_for_one_id_is_that_triggers_error_only(rendering: HeyGenEmulator) -> None:
    video_ids = submit(3)
    rendering.clear_requests()

    events = wait_all([*(trigger(video_id) for video_id in video_ids), trigger("v-nobody-made")])

    assert [event.status for event in events[:3]] == ["success"] * 3
    unknown = events[3]
    assert unknown.status == "error" and unknown.error_class == "HeyGenNotFoundError", unknown
    assert "v-nobody-made" in polls_of(rendering), "it was asked about in a bulk call"
    assert single_gets(rendering)["v-nobody-made"] == 1, "its own GET confirmed it before the wait ended"


@pytest.mark.parametrize(
    ("fault", "retry_after"), [("rate_limited", 1), ("service_unavailable", 1), ("server_error", 0)]
)
def test_a_failed_bulk_call_pauses_the_poller_without_ending_any_wait(
    rendering: HeyGenEmulator, fault: str, retry_after: int, caplog: pytest.LogCaptureFixture
) -> None:
    video_ids = submit(5)
    rendering.clear_requests()
    rendering.add_fault(fault, method="GET", path=BULK, count=1, retry_after_seconds=retry_after)

    with caplog.at_level(logging.WARNING, logger="heygen_provider.triggers.status_poller"):
        events = wait_all(trigger(video_id) for video_id in video_ids)

    assert [event.status for event in events] == ["success"] * 5
    calls = rendering.bulk_status_calls()
    assert calls[0].fault == fault and calls[1].fault is None
    assert calls[1].timestamp - calls[0].timestamp >= retry_after, "Retry-After is honoured by the whole poller"
    assert [record.message for record in caplog.records if "pauses" in record.message], "one warning says so"
    assert single_gets(rendering) == Counter(video_ids), "no video was polled alone meanwhile"


def test_a_connection_without_the_bulk_call_falls_back_to_per_video_polling(
    rendering: HeyGenEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A gateway or an older API answering 404 for the bulk path (400 and 405 alike: unit tests)."""
    video_ids = submit(4)
    rendering.clear_requests()
    rendering.add_fault("not_found", method="GET", path=BULK, count=None)

    with caplog.at_level(logging.WARNING, logger="heygen_provider.triggers.status_poller"):
        events = wait_all(trigger(video_id) for video_id in video_ids)

    assert [event.status for event in events] == ["success"] * 4
    assert len(rendering.bulk_status_calls()) == 1, "asked once, then never again on this connection"
    gets = single_gets(rendering)
    assert set(gets) == set(video_ids) and max(gets.values()) > 1, "each video polled alone"
    warnings = [record for record in caplog.records if "polling each video alone" in record.message]
    assert len(warnings) == 1


def test_the_legacy_api_polls_video_by_video(legacy: HeyGenEmulator) -> None:
    legacy.update_settings(render_seconds=RENDER_SECONDS, pending_seconds=PENDING_SECONDS)
    video_ids = [HeyGenHook().create_video(REQUEST).video_id for _ in range(3)]
    legacy.clear_requests()

    events = wait_all(trigger(video_id) for video_id in video_ids)

    assert [event.status for event in events] == ["success"] * 3
    assert legacy.bulk_status_calls() == []
    assert Counter(
        entry.query.get("video_id") for entry in legacy.requests("GET", "/v1/video_status.get")
    ).keys() == set(video_ids)


def test_a_cancelled_trigger_leaves_only_its_own_id(rendering: HeyGenEmulator) -> None:
    rendering.update_settings(pending_seconds=PENDING_SECONDS * 3)  # several cycles after the cancel
    video_ids = submit(3)
    rendering.clear_requests()

    async def run() -> list[Any]:
        tasks = [asyncio.ensure_future(first_event(trigger(video_id))) for video_id in video_ids]
        await asyncio.sleep(POLL_INTERVAL * 2)
        tasks[0].cancel()
        cancelled_at = len(rendering.bulk_status_calls())
        results = await asyncio.gather(*tasks, return_exceptions=True)
        return [cancelled_at, *results]

    cancelled_at, first, *others = asyncio.run(run())

    assert isinstance(first, asyncio.CancelledError)
    assert [event.status for event in others] == ["success", "success"]
    later = rendering.bulk_status_calls()[cancelled_at + 1 :]
    assert later and all(video_ids[0] not in (call.bulk_ids or ()) for call in later)
    assert single_gets(rendering)[video_ids[0]] == 0


def test_a_trigger_rebuilt_later_joins_the_running_cohort(rendering: HeyGenEmulator) -> None:
    """A triggerer restart or takeover rebuilds triggers from their kwargs; they join the shared poll."""
    first_id, second_id = submit(2)
    rendering.clear_requests()
    classpath, kwargs = trigger(second_id).serialize()

    async def run() -> list[VideoEvent]:
        running = asyncio.ensure_future(first_event(trigger(first_id)))
        await asyncio.sleep(POLL_INTERVAL * 1.5)
        rebuilt = asyncio.ensure_future(first_event(HeyGenVideoStatusTrigger(**kwargs)))
        return list(await asyncio.gather(running, rebuilt))

    events = asyncio.run(run())

    assert classpath.endswith("HeyGenVideoStatusTrigger")
    assert [event.status for event in events] == ["success", "success"]
    together = [call for call in rendering.bulk_status_calls() if {first_id, second_id} <= set(call.bulk_ids or ())]
    assert together, "the rebuilt trigger's video was asked about in the same calls as the running one"
