"""
More rows than render slots (issue 26): HeyGen's v3 refuses a create beyond the account's concurrent
renders with HTTP 429 ``rate_limit_exceeded`` and a ``Retry-After``. The task neither fails nor sleeps
on its worker: it defers to :class:`HeyGenRenderSlotTrigger`, which wakes at the ``Retry-After`` (with
jitter) or earlier when the triggerer sees a render of the same connection end (first refused, first
woken), and resumes to send the same create again with the same ``Idempotency-Key``.

The worker's HTTP is mocked with requests-mock; the triggerer's is a loopback aiohttp server.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from typing import Any

import pytest

from heygen_provider.exceptions import HeyGenRateLimitError, HeyGenRenderSlotTimeoutError, HeyGenRenderTimeoutError
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.models.slot_wait import SLOT_TIMEOUT, TRY_AGAIN, SlotEvent, SlotWait
from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator
from heygen_provider.operators.template import HeyGenTemplateVideoOperator
from heygen_provider.retry import RetryPolicy
from heygen_provider.triggers import loop_state
from heygen_provider.triggers.heygen import HeyGenVideoStatusTrigger
from heygen_provider.triggers.loop_state import SlotQueue, TriggererLoopState
from heygen_provider.triggers.render_slot import HeyGenRenderSlotTrigger
from tests.fixtures.answers import event, v3_created_body, v3_video_body
from tests.fixtures.connections import API_KEY, BASE_URL, assert_no_key
from tests.fixtures.loopback import StatusServer
from tests.fixtures.operators import StateStoreTries
from tests.fixtures.scenes import scene
from tests.fixtures.triggers import collect_events, trigger_payloads

try:
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:  # Airflow 3.1
    from airflow.exceptions import TaskDeferred  # type: ignore[no-redef,attr-defined,unused-ignore]

CREATE_URL = f"{BASE_URL}/v3/videos"
TEMPLATE_URL = f"{BASE_URL}/v3/templates/tpl-1"
RETRY_AFTER = 30
#: HeyGen's answer to a create beyond the account's render slots.
REFUSED = {
    "status_code": 429,
    "json": {"error": {"code": "rate_limit_exceeded", "message": "Too many concurrent video jobs"}},
    "headers": {"Retry-After": str(RETRY_AFTER)},
}
TEMPLATE = {
    "data": {
        "id": "tpl-1",
        "name": "Welcome",
        "variables": {"first_name": {"name": "first_name", "type": "text", "properties": {"content": "Alex"}}},
        "scenes": [{"scene_id": "s1", "script": "Hi {{first_name}}!"}],
    }
}


def status_url(video_id: str) -> str:
    return f"{BASE_URL}/v3/videos/{video_id}"


def generate(**kwargs: Any) -> HeyGenGenerateVideoOperator:
    kwargs.setdefault("deferrable", True)
    return HeyGenGenerateVideoOperator(task_id="render", video_inputs=[scene()], poll_interval=5, timeout=600, **kwargs)


def from_template(**kwargs: Any) -> HeyGenTemplateVideoOperator:
    kwargs.setdefault("deferrable", True)
    return HeyGenTemplateVideoOperator(
        task_id="render", template_id="tpl-1", variables={"first_name": "Grace"}, poll_interval=5, timeout=600, **kwargs
    )


def post_keys(requests_mock: Any) -> list[str]:
    return [r.headers["Idempotency-Key"] for r in requests_mock.request_history if r.method == "POST"]


def deferred(operator: Any, call: Any) -> TaskDeferred:
    with pytest.raises(TaskDeferred) as caught:
        call()
    return caught.value


def refused_then_resumed(operator: Any, requests_mock: Any, create_url: str = CREATE_URL) -> tuple[TaskDeferred, Any]:
    """The first try is refused and defers for a slot; the resume (same task instance) submits again."""
    requests_mock.post(create_url, [REFUSED, {"json": v3_created_body("vid-1")}])
    requests_mock.get(status_url("vid-1"), json=v3_video_body("vid-1", "completed"))
    context = StateStoreTries().context()
    waiting = deferred(operator, lambda: operator.execute(context))
    assert len(post_keys(requests_mock)) == 1
    result = operator.execute_after_slot(context, event=slot_freed(waiting))
    return waiting, result


def slot_freed(waiting: TaskDeferred) -> dict[str, Any]:
    """The event of the deferred slot trigger when a render of the same connection ended."""
    return SlotEvent.try_again("a render of the same connection ended", waiting.trigger.wait).to_payload()


# Recorded, never slept: a regression that sleeps on the worker fails fast instead of waiting.
pytestmark = pytest.mark.usefixtures("heygen_conn", "recorded_sleeps")


# -- the operators ----------------------------------------------------------------------------------


def test_a_refused_create_defers_to_the_slot_trigger_without_sleeping_on_the_worker(
    requests_mock: Any, recorded_sleeps: list[float]
) -> None:
    requests_mock.post(CREATE_URL, [REFUSED])
    operator = generate()
    before = time.time()
    waiting = deferred(operator, lambda: operator.execute(StateStoreTries().context()))

    assert waiting.method_name == "execute_after_slot"
    assert waiting.timeout is None
    trigger = waiting.trigger
    assert isinstance(trigger, HeyGenRenderSlotTrigger)
    assert recorded_sleeps == [], "the worker must not sleep through the wait for a slot"
    assert len(post_keys(requests_mock)) == 1, "a refused create is not re-sent within the call"
    # The Retry-After, with up to 20% jitter, as an absolute time; the wait is bounded by the timeout.
    assert RETRY_AFTER <= trigger.retry_at - trigger.waiting_since <= RETRY_AFTER * 1.2 + 1
    assert trigger.end_time == pytest.approx(trigger.waiting_since + 600)
    assert before <= trigger.waiting_since and trigger.refusals == 1


def test_the_resume_sends_the_same_key_and_returns_the_seconds_waited(requests_mock: Any) -> None:
    _, result = refused_then_resumed(generate(), requests_mock)

    first, second = post_keys(requests_mock)
    assert first == second, "the create after the wait must carry the same Idempotency-Key"
    assert result["video_id"] == "vid-1" and result["status"] == "success"
    assert result["slot_wait_seconds"] >= 0.0
    assert json.loads(requests_mock.request_history[0].body) == json.loads(
        [r for r in requests_mock.request_history if r.method == "POST"][1].body
    )


def test_the_resume_waits_for_the_render_in_the_triggerer_with_the_seconds_waited(requests_mock: Any) -> None:
    requests_mock.post(CREATE_URL, [REFUSED, {"json": v3_created_body("vid-1")}])
    requests_mock.get(status_url("vid-1"), json=v3_video_body("vid-1", "processing"))
    operator = generate()
    context = StateStoreTries().context()
    waiting = deferred(operator, lambda: operator.execute(context))

    rendering = deferred(operator, lambda: operator.execute_after_slot(context, event=slot_freed(waiting)))

    status_trigger = rendering.trigger
    assert isinstance(status_trigger, HeyGenVideoStatusTrigger) and rendering.method_name == "execute_complete"
    # The seconds waited travel in the status trigger and come back in its event's payload.
    _, kwargs = status_trigger.serialize()
    assert kwargs["slot_wait_seconds"] == status_trigger.slot_wait_seconds > 0
    payload = {**event("success", video_id="vid-1"), "slot_wait_seconds": kwargs["slot_wait_seconds"]}
    result = operator.execute_complete(context, event=payload)
    assert result is not None and result["slot_wait_seconds"] == kwargs["slot_wait_seconds"]


def test_a_second_refusal_keeps_the_first_refusal_s_place_and_deadline(requests_mock: Any) -> None:
    requests_mock.post(CREATE_URL, [REFUSED, REFUSED])
    operator = generate()
    context = StateStoreTries().context()
    first = deferred(operator, lambda: operator.execute(context))

    second = deferred(operator, lambda: operator.execute_after_slot(context, event=slot_freed(first)))

    assert isinstance(second.trigger, HeyGenRenderSlotTrigger) and second.method_name == "execute_after_slot"
    assert second.trigger.waiting_since == first.trigger.waiting_since
    assert second.trigger.end_time == first.trigger.end_time, "the timeout counts from the first refusal"
    assert (first.trigger.refusals, second.trigger.refusals) == (1, 2)
    first_key, second_key = post_keys(requests_mock)
    assert first_key == second_key


def test_an_event_delivered_twice_re_attaches_instead_of_paying_again(requests_mock: Any) -> None:
    requests_mock.post(CREATE_URL, [REFUSED, {"json": v3_created_body("vid-1")}, {"json": v3_created_body("vid-2")}])
    requests_mock.get(status_url("vid-1"), json=v3_video_body("vid-1", "processing"))
    operator = generate(wait_for_completion=False)
    context = StateStoreTries().context()
    waiting = deferred(operator, lambda: operator.execute(context))

    first = operator.execute_after_slot(context, event=slot_freed(waiting))
    again = operator.execute_after_slot(context, event=slot_freed(waiting))

    assert first is not None and again is not None and first["video_id"] == again["video_id"] == "vid-1"
    assert len(post_keys(requests_mock)) == 2, "one refused create and one paid create, never a third"


def test_fire_and_forget_waits_for_a_slot_too(requests_mock: Any) -> None:
    requests_mock.get(status_url("vid-1"), json=v3_video_body("vid-1", "processing"))
    waiting, result = refused_then_resumed(generate(wait_for_completion=False), requests_mock)

    assert isinstance(waiting.trigger, HeyGenRenderSlotTrigger)
    assert result["video_id"] == "vid-1" and "slot_wait_seconds" in result
    assert len(set(post_keys(requests_mock))) == 1


def test_the_template_operator_waits_for_a_slot_alike(requests_mock: Any, recorded_sleeps: list[float]) -> None:
    requests_mock.get(TEMPLATE_URL, json=TEMPLATE)
    waiting, result = refused_then_resumed(from_template(), requests_mock, TEMPLATE_URL)

    assert isinstance(waiting.trigger, HeyGenRenderSlotTrigger) and waiting.method_name == "execute_after_slot"
    assert recorded_sleeps == []
    first, second = post_keys(requests_mock)
    assert first == second
    assert result["video_id"] == "vid-1"


def test_a_slot_timeout_event_fails_with_an_error_naming_the_wait_for_a_slot(requests_mock: Any) -> None:
    requests_mock.post(CREATE_URL, [REFUSED])
    operator = generate()
    context = StateStoreTries().context()
    waiting = deferred(operator, lambda: operator.execute(context))
    message = "no HeyGen render slot became free before the render timeout"
    event = SlotEvent.timeout(message, waiting.trigger.wait).to_payload()

    with pytest.raises(HeyGenRenderSlotTimeoutError, match="render slot") as caught:
        operator.execute_after_slot(context, event=event)

    assert isinstance(caught.value, HeyGenRenderTimeoutError)
    assert len(post_keys(requests_mock)) == 1, "a timed-out wait sends nothing"


def test_blocking_mode_waits_the_retry_after_on_the_worker_then_submits(
    requests_mock: Any, recorded_sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def time_runs_out(self: Any, seconds: float) -> bool:
        waits.append(seconds)
        return False

    monkeypatch.setattr(loop_state.SlotWaiter, "wait", time_runs_out)
    requests_mock.post(CREATE_URL, [REFUSED, {"json": v3_created_body("vid-1")}])
    requests_mock.get(status_url("vid-1"), json=v3_video_body("vid-1", "completed"))

    result = generate(deferrable=False).execute(StateStoreTries().context())

    assert result is not None and result["video_id"] == "vid-1"
    (waited,) = waits
    assert RETRY_AFTER - 1 <= waited <= RETRY_AFTER * 1.2
    assert recorded_sleeps == [], "the hook itself never sleeps on the refusal"
    first, second = post_keys(requests_mock)
    assert first == second


def test_blocking_mode_ends_with_the_slot_timeout_error(requests_mock: Any) -> None:
    requests_mock.post(CREATE_URL, [REFUSED])
    operator = HeyGenGenerateVideoOperator(
        task_id="render", video_inputs=[scene()], deferrable=False, poll_interval=5, timeout=0.05
    )
    with pytest.raises(HeyGenRenderSlotTimeoutError, match=r"waited for a render slot .* rate_limit_exceeded"):
        operator.execute(StateStoreTries().context())
    assert len(post_keys(requests_mock)) == 1


# -- the retry policy ---------------------------------------------------------------------------------


def test_the_hook_raises_a_refused_create_at_once_and_keeps_retrying_other_429s(
    requests_mock: Any, recorded_sleeps: list[float]
) -> None:
    hook = HeyGenHook()
    requests_mock.post(CREATE_URL, [REFUSED])
    with pytest.raises(HeyGenRateLimitError):
        hook.create_video_from_body({"type": "avatar"}, idempotency_key="k-1")
    assert requests_mock.call_count == 1 and recorded_sleeps == []

    # A 429 with another code (or none) on a create, and any 429 on a GET: retried within the call as before.
    other = {"status_code": 429, "json": {"error": {"code": "too_many_requests", "message": "slow down"}}}
    requests_mock.post(CREATE_URL, [other, {"json": v3_created_body("vid-1")}])
    assert hook.create_video_from_body({"type": "avatar"}, idempotency_key="k-1").video_id == "vid-1"
    requests_mock.get(status_url("vid-1"), [REFUSED, {"json": v3_video_body("vid-1", "processing")}])
    assert hook.get_video_status("vid-1").video_id == "vid-1"
    assert len(recorded_sleeps) == 2


def test_the_slot_wait_is_the_retry_after_with_jitter_or_a_doubling_fallback() -> None:
    def policy(fraction: float) -> RetryPolicy:
        return RetryPolicy(random_fraction=lambda: fraction)

    refused = HeyGenRateLimitError("busy", status_code=429, code="rate_limit_exceeded", retry_after=30)
    assert policy(0.0).slot_wait(refused, 1) == 30
    assert policy(1.0).slot_wait(refused, 1) == pytest.approx(36)
    no_header = HeyGenRateLimitError("busy", status_code=429, code="rate_limit_exceeded")
    assert [policy(0.0).slot_wait(no_header, n) for n in (1, 2, 3)] == [10, 20, 40]
    assert policy(0.5).slot_wait(no_header, 1) == pytest.approx(11)
    assert policy(0.0).slot_wait(no_header, 10) == 120, "capped"
    huge = HeyGenRateLimitError("busy", status_code=429, code="rate_limit_exceeded", retry_after=3600)
    assert policy(0.0).slot_wait(huge, 1) == 120, "a Retry-After is capped too"


# -- the trigger -------------------------------------------------------------------------------------


def slot_trigger(*, since: float, retry_in: float = 3600, **kwargs: Any) -> HeyGenRenderSlotTrigger:
    kwargs.setdefault("end_time", time.time() + 3600)
    return HeyGenRenderSlotTrigger("heygen_default", retry_at=time.time() + retry_in, waiting_since=since, **kwargs)


def test_the_classpath_is_written_out_and_a_round_trip_rebuilds_the_trigger_without_the_key() -> None:
    trigger = HeyGenRenderSlotTrigger(
        "my_heygen", retry_at=1_800_000_030.5, waiting_since=1_800_000_000.0, refusals=3, end_time=1_800_003_600.0
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "heygen_provider.triggers.render_slot.HeyGenRenderSlotTrigger"
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))
    assert type(rebuilt) is HeyGenRenderSlotTrigger and rebuilt.serialize() == (classpath, kwargs)
    assert_no_key(kwargs, repr(trigger))
    assert not any("airflow-heygen:" in str(value) for value in kwargs.values()), "no Idempotency-Key either"


def test_the_operator_s_trigger_carries_neither_key(requests_mock: Any) -> None:
    requests_mock.post(CREATE_URL, [REFUSED])
    operator = generate()
    waiting = deferred(operator, lambda: operator.execute(StateStoreTries().context()))
    _, kwargs = waiting.trigger.serialize()
    assert_no_key(kwargs, waiting.kwargs, slot_freed(waiting))
    key = post_keys(requests_mock)[0]
    assert key not in json.dumps(kwargs) and key not in json.dumps(slot_freed(waiting))


def test_the_wait_ends_at_the_retry_after_when_no_render_ends() -> None:
    trigger = slot_trigger(since=time.time(), retry_in=0.02, refusals=2)
    (payload,) = trigger_payloads(trigger)
    assert (payload["outcome"], payload["message"]) == (TRY_AGAIN, "the refusal's Retry-After has passed")
    # The wait so far comes back with the event (dag.test() resumes a task with the event alone).
    assert SlotEvent.from_payload(payload).wait == trigger.wait == SlotWait(trigger.waiting_since, 2, trigger.end_time)


def test_the_wait_times_out_at_the_end_time_with_a_message_naming_the_slot() -> None:
    (payload,) = trigger_payloads(slot_trigger(since=time.time() - 600, end_time=time.time() + 0.02, refusals=4))
    assert payload["outcome"] == SLOT_TIMEOUT
    assert "render timeout: waited for a render slot for 600 s (4 create(s) refused" in payload["message"]
    with pytest.raises(HeyGenRenderSlotTimeoutError, match="render slot"):
        SlotEvent.from_payload(payload).raise_if_timed_out(time.time())


async def test_the_queue_wakes_the_first_refused_first_one_per_ended_render() -> None:
    queue = SlotQueue()
    late, _ = queue.join(since=200.0)
    first, ahead_of_first = queue.join(since=100.0)
    middle, ahead_of_middle = queue.join(since=150.0)
    assert (ahead_of_first, ahead_of_middle) == (0, 1)

    queue.render_ended()
    assert [waiter.future.done() for waiter in (first, middle, late)] == [True, False, False]
    queue.render_ended()
    assert [waiter.future.done() for waiter in (first, middle, late)] == [True, True, False]


async def test_a_render_seen_ending_by_the_poller_wakes_the_longest_waiting_trigger(
    status_server: StatusServer, capsys: pytest.CaptureFixture[str]
) -> None:
    status_server.statuses("vid-1", "processing", "completed")
    now = time.time()
    first = asyncio.ensure_future(collect_events(slot_trigger(since=now - 10)))
    second = asyncio.ensure_future(collect_events(slot_trigger(since=now - 5)))
    # Refused again after an earlier wake-up: it keeps its place from its first refusal, ahead of both.
    again = asyncio.ensure_future(collect_events(slot_trigger(since=now - 20, refusals=2)))
    await asyncio.sleep(0.05)  # all three wait
    (rendered,) = await asyncio.wait_for(
        collect_events(HeyGenVideoStatusTrigger("vid-1", poll_interval=0.01, end_time=time.time() + 30)), 30
    )
    (woken,) = await asyncio.wait_for(again, 5)
    await asyncio.sleep(0.05)

    assert rendered.payload["status"] == "success"
    assert (woken.payload["outcome"], woken.payload["message"]) == (TRY_AGAIN, "a render of the same connection ended")
    assert not first.done() and not second.done(), "one ended render wakes one wait, the first refused"
    state = TriggererLoopState.of_running_loop()
    assert len(state.slot_queue("heygen_default").waiters) == 2
    lines = [line for line in capsys.readouterr().out.splitlines() if "Waiting for a HeyGen render slot" in line]
    # Said once per render (not at a later refusal), with the waits before it in this triggerer.
    assert sorted(line.split(". ")[1].split(" wait(s)")[0] for line in lines) == ["0", "1"]
    assert all(API_KEY not in line for line in lines)
    for task in (first, second):
        task.cancel()
    await asyncio.gather(first, second, return_exceptions=True)
