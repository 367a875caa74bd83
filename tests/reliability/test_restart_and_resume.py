"""
A trigger rebuilt from its serialized form (another triggerer, a restart) keeps its deadlines, and the
operator's resume method, called twice with the same event (events are delivered at least once), does no
harm: the same result, no HTTP call, no second POST.

The killed-triggerer test with real Airflow processes lives in ``tests/deployment``.
"""

from __future__ import annotations

import copy
import importlib
import json
import time
from typing import Any

import pytest

from heygen_provider.exceptions import HeyGenRenderError
from heygen_provider.operators.heygen import XCOM_VIDEO_ID, HeyGenGenerateVideoOperator
from heygen_provider.testing.emulator import HeyGenEmulator
from heygen_provider.triggers.heygen import HeyGenVideoStatusTrigger
from tests.fixtures.operators import FakeStateStore, FakeTI
from tests.fixtures.triggers import run_status_trigger, trigger_payloads
from tests.integration.conftest import task_states
from tests.reliability.conftest import SCENE

pytestmark = pytest.mark.integration

RENDER_TIMEOUT = 20.0  # the reliability DAGs' timeout (HEYGEN_TEST_RENDER_TIMEOUT)
#: A trigger that slept instead of noticing its deadline would hang here for an hour.
HOUR = 3600.0


def rebuild(serialized: tuple[str, dict[str, Any]]) -> HeyGenVideoStatusTrigger:
    """What a triggerer does with a trigger row: JSON kwargs, class imported by its path."""
    classpath, kwargs = serialized
    module, _, name = classpath.rpartition(".")
    trigger = getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))
    assert isinstance(trigger, HeyGenVideoStatusTrigger)
    return trigger


@pytest.fixture
def deferred_triggers(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """The serialized form of every trigger the generate operator defers to in a DAG run."""
    seen: list[tuple[str, dict[str, Any]]] = []
    original = HeyGenGenerateVideoOperator.defer

    def defer(self: Any, *, trigger: Any, **kwargs: Any) -> Any:
        seen.append(trigger.serialize())
        return original(self, trigger=trigger, **kwargs)

    monkeypatch.setattr(HeyGenGenerateVideoOperator, "defer", defer)
    return seen


@pytest.mark.usefixtures("fast_backoff")
def test_a_trigger_rebuilt_from_a_dag_run_keeps_its_deadlines(
    emulator: HeyGenEmulator, run_dag: Any, deferred_triggers: list[tuple[str, dict[str, Any]]]
) -> None:
    before = time.time()
    # A render of 3 s: on a loaded machine a shorter one may be done at the operator's own check.
    dag_run = run_dag("rel_generate", title="rebuilt trigger emulator:render-seconds=3")
    assert str(dag_run.state) == "success", task_states(dag_run)
    (serialized,) = deferred_triggers
    kwargs = serialized[1]

    # Absolute wall-clock times (UNIX seconds), not monotonic ones: another machine can honour them.
    assert before + RENDER_TIMEOUT < kwargs["end_time"] < time.time() + RENDER_TIMEOUT
    rebuilt = rebuild(serialized)
    assert rebuilt.end_time == kwargs["end_time"] and rebuilt.execution_deadline == kwargs["execution_deadline"]
    assert rebuilt.serialize() == serialized, "rebuilding changes nothing, however late it happens"
    assert set(kwargs) == {"video_id", "heygen_conn_id", "poll_interval", "end_time", "execution_deadline"}

    # A rebuilt trigger still works: the video is done, so one bulk status call, the finished video's own
    # GET (its URLs) and a success event.
    emulator.clear_requests()
    assert [event["status"] for event in trigger_payloads(rebuilt, 30)] == ["success"]
    assert [entry.path for entry in emulator.requests("GET")] == [
        "/v3/videos/statuses",
        f"/v3/videos/{rebuilt.video_id}",
    ]
    assert emulator.requests("POST") == [], "a trigger never submits"


@pytest.mark.parametrize(
    ("end_in", "execution_in", "which"),
    [(-1.0, None, "render timeout"), (HOUR, -1.0, "execution_timeout"), (-5.0, -1.0, "render timeout")],
    ids=["render-timeout-passed", "execution-timeout-passed", "both-passed"],
)
def test_a_trigger_rebuilt_after_its_deadline_times_out_at_once(
    emulator: HeyGenEmulator, end_in: float, execution_in: float | None, which: str
) -> None:
    now = time.time()
    original = HeyGenVideoStatusTrigger(
        "video-of-a-lost-triggerer",
        poll_interval=HOUR,
        end_time=now + end_in,
        execution_deadline=None if execution_in is None else now + execution_in,
    )

    events = trigger_payloads(rebuild(original.serialize()), 30)

    assert len(events) == 1
    assert events[0]["status"] == "timeout" and which in events[0]["message"], events[0]
    assert len(emulator.requests()) == 1, "one last status check at the deadline, no more"


@pytest.fixture
def finished_event(emulator: HeyGenEmulator) -> Any:
    """The real event of a render (by its title's magic value) that has ended, then an empty request log."""
    from heygen_provider.hooks.heygen import HeyGenHook

    def make(title: str) -> dict[str, Any]:
        video = HeyGenHook().create_video({"video_inputs": [SCENE], "title": f"{title} emulator:render-seconds=0"})
        event = run_status_trigger(video.video_id, end_in=30)
        emulator.clear_requests()
        return event

    return make


def operator() -> HeyGenGenerateVideoOperator:
    return HeyGenGenerateVideoOperator(task_id="generate", video_inputs=[SCENE], title="resume twice", deferrable=True)


def resume(task: HeyGenGenerateVideoOperator, event: dict[str, Any], ti: FakeTI, store: FakeStateStore) -> Any:
    return task.execute_complete({"ti": ti, "task_state_store": store}, copy.deepcopy(event))  # type: ignore[arg-type]


def test_resuming_twice_with_a_success_event_gives_the_same_result(
    emulator: HeyGenEmulator, finished_event: Any
) -> None:
    event = finished_event("resume twice")
    task, ti, store = operator(), FakeTI(), FakeStateStore()

    first = resume(task, event, ti, store)
    second = resume(task, event, ti, store)

    assert first == second and first["status"] == "success" and first["video_url"]
    assert ti.pushed == [(XCOM_VIDEO_ID, event["video_id"])] * 2, "the same XCom, pushed again"
    assert emulator.requests() == [], "no HTTP call, no second POST"


@pytest.mark.parametrize("title", ["emulator:fail", "emulator:completed-with-error"])
def test_resuming_twice_with_a_render_outcome_repeats_it(
    legacy: HeyGenEmulator, finished_event: Any, title: str
) -> None:
    # On the legacy API: a completed video with an error object (and a numeric code) is a legacy answer.
    event = finished_event(title)
    task, ti, store = operator(), FakeTI(), FakeStateStore()

    outcomes = []
    for _ in range(2):
        try:
            outcomes.append(resume(task, event, ti, store))
        except HeyGenRenderError as error:
            outcomes.append((error.status, error.code, error.message))

    assert outcomes[0] == outcomes[1]
    if title == "emulator:fail":
        assert outcomes[0] == ("failed", 40119, event["message"])
    else:
        assert outcomes[0]["error"]["code"] == "MOVIO_PAYMENT_INSUFFICIENT_CREDIT"
    assert legacy.requests() == [], "no HTTP call, no second POST"


def test_a_trigger_rebuilt_after_its_deadline_reports_a_finished_video_as_a_success(
    emulator: HeyGenEmulator,
) -> None:
    # The triggerer was down past the render timeout while HeyGen finished the video.
    from heygen_provider.hooks.heygen import HeyGenHook

    video = HeyGenHook().create_video({"video_inputs": [SCENE], "title": "emulator:render-seconds=0"})
    emulator.clear_requests()
    late = HeyGenVideoStatusTrigger(video.video_id, poll_interval=HOUR, end_time=time.time() - 60)

    events = trigger_payloads(rebuild(late.serialize()), 30)

    assert [event["status"] for event in events] == ["success"]
    assert events[0]["result"]["video_url"]
    assert len(emulator.requests("GET")) == 1


@pytest.mark.usefixtures("legacy")  # polled per video, so the status answers below are the video's own
class TestCompletedWithoutAVideoUrl:
    """A ``completed`` answer without a ``video_url`` is asked again a little, then fails clearly (never a success)."""

    def test_the_url_that_comes_on_a_later_check_is_a_success(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from heygen_provider.models import VideoStatusResponse

        answers = iter(
            [
                {"id": "vid-1", "status": "completed"},
                {"id": "vid-1", "status": "completed", "video_url": None},
                {"id": "vid-1", "status": "completed", "video_url": "https://files.example/vid-1.mp4"},
            ]
        )

        async def status(self: Any, video_id: str) -> VideoStatusResponse:
            return VideoStatusResponse.model_validate(next(answers))

        monkeypatch.setattr("heygen_provider.hooks.heygen.HeyGenHook.aget_video_status", status)
        trigger = HeyGenVideoStatusTrigger("vid-1", poll_interval=0.001, end_time=time.time() + 30)
        [event] = trigger_payloads(trigger, 30)
        assert event["status"] == "success"
        assert event["result"]["video_url"] == "https://files.example/vid-1.mp4"

    def test_a_url_that_never_comes_fails_clearly_after_a_few_checks(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from heygen_provider.exceptions import HeyGenMalformedResponseError
        from heygen_provider.models import VideoStatusResponse
        from heygen_provider.models.event import VideoEvent
        from heygen_provider.models.status import VIDEO_URL_CHECKS

        calls: list[str] = []

        async def status(self: Any, video_id: str) -> VideoStatusResponse:
            calls.append(video_id)
            return VideoStatusResponse.model_validate({"id": video_id, "status": "completed"})

        monkeypatch.setattr("heygen_provider.hooks.heygen.HeyGenHook.aget_video_status", status)
        trigger = HeyGenVideoStatusTrigger("vid-1", poll_interval=0.001, end_time=time.time() + 30)
        [event] = trigger_payloads(trigger, 30)

        assert len(calls) == VIDEO_URL_CHECKS
        with pytest.raises(HeyGenMalformedResponseError, match="completed but gave no video_url"):
            VideoEvent.from_payload(event).result_or_raise()
