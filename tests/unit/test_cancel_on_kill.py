"""
``cancel_on_kill``: a render is deleted (``DELETE /v3/videos/{id}``) when its waiting task is marked failed,
and never when the task is stopped for another reason (a worker or triggerer stopping, a restart).

HeyGen is mocked at the HTTP boundary (requests-mock for the worker, a loopback aiohttp server for the
trigger); Airflow's answer about the task instance's state is the Task SDK call the code makes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from heygen_provider.exceptions import HeyGenConnectionError
from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator
from heygen_provider.triggers import heygen as trigger_module
from heygen_provider.triggers.heygen import HeyGenVideoStatusTrigger
from tests.fixtures.answers import v3_created_body, v3_video_body
from tests.fixtures.connections import API_KEY, BASE_URL, CONN_ENV, connection_json
from tests.fixtures.loopback import start_status_server
from tests.fixtures.operators import FakeTI, StateStoreTries
from tests.fixtures.scenes import scene

CREATE_URL = f"{BASE_URL}/v3/videos"
VIDEO_URL = f"{BASE_URL}/v3/videos/vid-1"
DELETED = {"data": {"id": "vid-1", "deleted": True}}


@dataclass
class TaskStates:
    """Airflow's answer to "is this task instance failed?" (``RuntimeTaskInstance.get_ti_count``)."""

    failed: bool | Exception = False
    questions: list[dict[str, Any]] = field(default_factory=list)

    def get_ti_count(self, **question: Any) -> int:
        self.questions.append(question)
        if isinstance(self.failed, Exception):
            raise self.failed
        return 1 if self.failed else 0


@pytest.fixture
def task_states(monkeypatch: pytest.MonkeyPatch) -> TaskStates:
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    states = TaskStates()
    monkeypatch.setattr(RuntimeTaskInstance, "get_ti_count", staticmethod(states.get_ti_count))
    return states


EXPECTED_QUESTION = {
    "dag_id": FakeTI.dag_id,
    "map_index": -1,
    "task_ids": [FakeTI.task_id],
    "run_ids": [FakeTI.run_id],
    "states": ["failed"],
}


# -- the operator waiting on its worker (deferrable=False): on_kill ------------------------------------


def killed_while_waiting(monkeypatch: pytest.MonkeyPatch, requests_mock: Any, **kwargs: Any) -> Any:
    """Run a blocking render whose wait is interrupted by Airflow killing the task (which calls on_kill)."""
    requests_mock.post(CREATE_URL, json=v3_created_body("vid-1"))
    requests_mock.get(VIDEO_URL, json=v3_video_body("vid-1", "processing"))
    deletes = requests_mock.delete(VIDEO_URL, json=DELETED)
    operator = HeyGenGenerateVideoOperator(
        task_id="render", video_inputs=[scene()], deferrable=False, poll_interval=0.01, **kwargs
    )
    waited_on: list[HeyGenVideoStatusTrigger] = []

    def wait_and_get_killed(trigger: HeyGenVideoStatusTrigger) -> Any:
        waited_on.append(trigger)
        operator.on_kill()  # what Airflow's SIGTERM handler does while the task waits
        raise SystemExit("killed")

    monkeypatch.setattr("heygen_provider.triggers.heygen.wait_for_event", wait_and_get_killed)
    with pytest.raises(SystemExit):
        operator.execute(StateStoreTries().context())
    assert waited_on and waited_on[0].cancel_on_kill is False, "a worker-side wait leaves deleting to on_kill"
    return deletes


@pytest.mark.usefixtures("heygen_conn")
class TestOperatorOnKill:
    def test_a_task_marked_failed_deletes_its_video_once(
        self, monkeypatch: pytest.MonkeyPatch, requests_mock: Any, task_states: TaskStates
    ) -> None:
        task_states.failed = True
        deletes = killed_while_waiting(monkeypatch, requests_mock, cancel_on_kill=True)
        assert deletes.call_count == 1
        assert deletes.last_request.path == "/v3/videos/vid-1"
        assert deletes.last_request.headers["X-Api-Key"] == API_KEY
        assert task_states.questions == [EXPECTED_QUESTION]

    def test_off_by_default_sends_no_delete_and_asks_nothing(
        self, monkeypatch: pytest.MonkeyPatch, requests_mock: Any, task_states: TaskStates
    ) -> None:
        task_states.failed = True
        deletes = killed_while_waiting(monkeypatch, requests_mock)
        assert deletes.call_count == 0
        assert task_states.questions == []

    @pytest.mark.parametrize("answer", [False, RuntimeError("no supervisor")], ids=["still-running", "unknown"])
    def test_a_kill_that_is_not_a_mark_failed_leaves_the_video(
        self, monkeypatch: pytest.MonkeyPatch, requests_mock: Any, task_states: TaskStates, answer: Any
    ) -> None:
        # A worker shutting down, a clear or execution_timeout: the retry re-attaches to this video.
        task_states.failed = answer
        deletes = killed_while_waiting(monkeypatch, requests_mock, cancel_on_kill=True)
        assert deletes.call_count == 0
        assert len(task_states.questions) == 1

    def test_the_deferred_task_hands_cancel_on_kill_to_its_trigger(self, requests_mock: Any) -> None:
        try:
            from airflow.sdk.exceptions import TaskDeferred
        except ImportError:  # Airflow 3.1
            from airflow.exceptions import TaskDeferred  # type: ignore[no-redef,attr-defined,unused-ignore]

        requests_mock.post(CREATE_URL, json=v3_created_body("vid-1"))
        requests_mock.get(VIDEO_URL, json=v3_video_body("vid-1", "processing"))
        operator = HeyGenGenerateVideoOperator(
            task_id="render", video_inputs=[scene()], deferrable=True, cancel_on_kill=True
        )
        with pytest.raises(TaskDeferred) as deferred:
            operator.execute(StateStoreTries().context())
        trigger = deferred.value.trigger
        assert isinstance(trigger, HeyGenVideoStatusTrigger) and trigger.cancel_on_kill is True
        assert trigger.serialize()[1]["cancel_on_kill"] is True
        assert API_KEY not in json.dumps(trigger.serialize())

    def test_a_legacy_connection_is_refused_before_any_paid_call(
        self, monkeypatch: pytest.MonkeyPatch, requests_mock: Any
    ) -> None:
        monkeypatch.setenv(CONN_ENV, connection_json(api_version="legacy"))
        operator = HeyGenGenerateVideoOperator(task_id="render", video_inputs=[scene()], cancel_on_kill=True)
        with pytest.raises(HeyGenConnectionError, match=r"cancel_on_kill.*legacy.*cannot delete or cancel"):
            operator.execute(StateStoreTries().context())
        assert requests_mock.call_count == 0

    def test_the_template_operator_has_it_too(self) -> None:
        from heygen_provider.operators.template import HeyGenTemplateVideoOperator

        assert HeyGenTemplateVideoOperator(task_id="t", template_id="tpl-1", variables={}).cancel_on_kill is False
        assert HeyGenTemplateVideoOperator(
            task_id="t", template_id="tpl-1", variables={}, cancel_on_kill=True
        ).cancel_on_kill


# -- the deferred task: the trigger ---------------------------------------------------------------------


@dataclass
class FakeV3:
    """HeyGen on loopback: the video stays ``processing``; a DELETE answers as v3 does."""

    base_url: str = ""
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)
    polled: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append((request.method, request.path, request.headers.get("X-Api-Key")))
        video_id = request.match_info["video_id"]
        if request.method == "DELETE":
            return web.json_response({"data": {"id": video_id, "deleted": True}})
        self.polled.set()
        return web.json_response(v3_video_body(video_id, "processing"))

    def deletes(self) -> list[tuple[str, str, str | None]]:
        return [seen for seen in self.seen if seen[0] == "DELETE"]


@pytest.fixture
async def heygen(monkeypatch: pytest.MonkeyPatch, triggerer_loop_state: object) -> AsyncIterator[FakeV3]:
    fake = FakeV3()
    runner, fake.base_url = await start_status_server(fake.handle)
    monkeypatch.setenv(CONN_ENV, connection_json(host=fake.base_url))
    monkeypatch.setattr("heygen_provider.triggers.heygen.random.uniform", lambda low, high: 0.0)
    yield fake
    await runner.cleanup()


def deferred_trigger(cancel_on_kill: bool = True) -> HeyGenVideoStatusTrigger:
    trigger = HeyGenVideoStatusTrigger(
        "vid-1", poll_interval=0.01, end_time=time.time() + 3600, cancel_on_kill=cancel_on_kill
    )
    trigger.task_instance = FakeTI()  # type: ignore[assignment] # what the triggerer sets
    return trigger


async def cancelled_while_waiting(trigger: HeyGenVideoStatusTrigger, heygen: FakeV3) -> None:
    """Run the trigger until it has polled, then cancel it as the triggerer does."""

    async def consume() -> None:
        async for _ in trigger.run():
            raise AssertionError("the render never ends here")

    running = asyncio.create_task(consume())
    await heygen.polled.wait()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running


@pytest.fixture
def before_airflow_3_3(monkeypatch: pytest.MonkeyPatch) -> None:
    """A triggerer that never calls ``on_kill`` (Airflow 3.1, 3.2): the trigger acts on its cancellation."""
    monkeypatch.setattr(trigger_module, "TRIGGERER_CALLS_ON_KILL", False)


@pytest.fixture
def airflow_3_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trigger_module, "TRIGGERER_CALLS_ON_KILL", True)


@pytest.mark.usefixtures("before_airflow_3_3")
class TestTriggerCancelledBeforeAirflow33:
    async def test_a_task_marked_failed_deletes_its_video_once(
        self, heygen: FakeV3, task_states: TaskStates, blocking_calls: list[str]
    ) -> None:
        task_states.failed = True
        await cancelled_while_waiting(deferred_trigger(), heygen)
        assert heygen.deletes() == [("DELETE", "/v3/videos/vid-1", API_KEY)]
        assert task_states.questions == [EXPECTED_QUESTION]
        assert blocking_calls == []

    async def test_a_triggerer_stopping_while_the_task_is_deferred_deletes_nothing(
        self, heygen: FakeV3, task_states: TaskStates
    ) -> None:
        task_states.failed = False  # still deferred: the next triggerer takes the trigger over
        await cancelled_while_waiting(deferred_trigger(), heygen)
        assert heygen.deletes() == []
        assert len(task_states.questions) == 1

    async def test_a_triggerer_that_cannot_answer_any_more_deletes_nothing(
        self, heygen: FakeV3, task_states: TaskStates
    ) -> None:
        task_states.failed = ConnectionResetError("supervisor gone")
        await cancelled_while_waiting(deferred_trigger(), heygen)
        assert heygen.deletes() == []

    async def test_off_by_default_sends_no_delete_and_asks_nothing(
        self, heygen: FakeV3, task_states: TaskStates
    ) -> None:
        task_states.failed = True
        await cancelled_while_waiting(deferred_trigger(cancel_on_kill=False), heygen)
        assert heygen.deletes() == []
        assert task_states.questions == []


@pytest.mark.usefixtures("airflow_3_3")
class TestTriggerOnKillFromAirflow33:
    async def test_cancellation_alone_deletes_nothing(self, heygen: FakeV3, task_states: TaskStates) -> None:
        # Airflow 3.3 calls on_kill for a person's action; a plain cancellation is a stopping triggerer.
        task_states.failed = True
        await cancelled_while_waiting(deferred_trigger(), heygen)
        assert heygen.deletes() == []
        assert task_states.questions == []

    async def test_on_kill_deletes_when_the_task_was_marked_failed(
        self, heygen: FakeV3, task_states: TaskStates, blocking_calls: list[str]
    ) -> None:
        task_states.failed = True
        await deferred_trigger().on_kill()
        assert heygen.deletes() == [("DELETE", "/v3/videos/vid-1", API_KEY)]
        assert blocking_calls == []

    async def test_on_kill_after_a_clear_or_a_mark_success_deletes_nothing(
        self, heygen: FakeV3, task_states: TaskStates
    ) -> None:
        task_states.failed = False
        await deferred_trigger().on_kill()
        assert heygen.deletes() == []

    async def test_on_kill_is_off_by_default(self, heygen: FakeV3, task_states: TaskStates) -> None:
        task_states.failed = True
        await deferred_trigger(cancel_on_kill=False).on_kill()
        assert heygen.deletes() == [] and task_states.questions == []


def test_this_airflow_calls_on_kill_exactly_from_3_3() -> None:
    from airflow import __version__
    from packaging.version import Version

    assert trigger_module.TRIGGERER_CALLS_ON_KILL is (Version(__version__).release >= (3, 3))


def test_the_serialized_trigger_keeps_cancel_on_kill_and_an_older_one_reads_as_off() -> None:
    _classpath, kwargs = deferred_trigger().serialize()
    assert kwargs["cancel_on_kill"] is True
    kwargs.pop("cancel_on_kill")  # a trigger serialized before this parameter existed
    assert HeyGenVideoStatusTrigger(**kwargs).cancel_on_kill is False
