"""
Clearing a finished render does the same thing on every Airflow version (issue 27, item 7): it
re-attaches to the video it paid for, whatever HeyGen's 24-hour idempotency window says, because the
submission record outlives the success on 3.3 (task state store) and on 3.1/3.2 (a Variable) alike. A new
render on purpose is a new DAG run, or a changed request.

At the HTTP boundary (requests-mock), with both kinds of record, and Airflow's success callbacks run as
its task runner runs them.
"""

from __future__ import annotations

from typing import Any

import pytest

from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator
from tests.fixtures.answers import v3_created_body, v3_video_body
from tests.fixtures.connections import BASE_URL
from tests.fixtures.operators import FakeStateStore, FakeTI, FakeVariables
from tests.fixtures.scenes import scene

CREATE_URL = f"{BASE_URL}/v3/videos"


def video_url(video_id: str) -> str:
    return f"{BASE_URL}/v3/videos/{video_id}"


@pytest.fixture(autouse=True)
def _connection(heygen_conn: None) -> None:
    """``heygen_default`` at HeyGen's base URL, intercepted by requests-mock."""


class TaskInstance:
    """One task instance's tries; ``run_id`` makes it another DAG run's."""

    def __init__(self, kind: str, variables: FakeVariables, run_id: str = "manual__2026-12-07T07:00:00+00:00") -> None:
        self.kind = kind
        self.store = FakeStateStore()
        self.variables = variables
        self.run_id = run_id
        self.try_number = 0

    def next_try(self) -> dict[str, Any]:
        self.try_number += 1
        context: dict[str, Any] = {"ti": FakeTI(run_id=self.run_id, try_number=self.try_number)}
        if self.kind == "task state store (3.3)":
            context["task_state_store"] = self.store
        return context


@pytest.fixture(params=["task state store (3.3)", "Variable (3.1, 3.2)"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def operator(**kwargs: Any) -> HeyGenGenerateVideoOperator:
    return HeyGenGenerateVideoOperator(
        task_id="render", video_inputs=[scene()], deferrable=False, poll_interval=1, **kwargs
    )


def succeed(task: HeyGenGenerateVideoOperator, context: dict[str, Any]) -> dict[str, Any]:
    """``execute`` to a success, then what Airflow's task runner does after recording it."""
    result = task.execute(context)
    assert result is not None
    callbacks = task.on_success_callback or []
    for callback in callbacks if isinstance(callbacks, list) else [callbacks]:
        callback(context)
    return result


def creates(requests_mock: Any) -> int:
    return sum(1 for request in requests_mock.request_history if request.method == "POST")


def test_clearing_a_finished_render_re_attaches_to_its_video(
    kind: str, fake_variables: FakeVariables, requests_mock: Any
) -> None:
    requests_mock.post(CREATE_URL, [{"json": v3_created_body("vid-1")}, {"json": v3_created_body("vid-2")}])
    requests_mock.get(video_url("vid-1"), json=v3_video_body("vid-1", "completed"))
    task_instance = TaskInstance(kind, fake_variables)

    first = succeed(operator(), task_instance.next_try())
    # Cleared days later: HeyGen no longer remembers the idempotency key, only the record can tell.
    again = succeed(operator(), task_instance.next_try())

    assert creates(requests_mock) == 1, "a cleared success must not pay for a second render"
    assert again["video_id"] == first["video_id"] == "vid-1"


def test_a_new_dag_run_renders_again_on_purpose(kind: str, fake_variables: FakeVariables, requests_mock: Any) -> None:
    requests_mock.post(CREATE_URL, [{"json": v3_created_body("vid-1")}, {"json": v3_created_body("vid-2")}])
    for video_id in ("vid-1", "vid-2"):
        requests_mock.get(video_url(video_id), json=v3_video_body(video_id, "completed"))

    first = succeed(operator(), TaskInstance(kind, fake_variables).next_try())
    later_run = TaskInstance(kind, fake_variables, run_id="manual__2026-12-08T07:00:00+00:00")
    second = succeed(operator(), later_run.next_try())

    assert creates(requests_mock) == 2
    assert (first["video_id"], second["video_id"]) == ("vid-1", "vid-2")


def test_a_changed_request_renders_again_when_cleared(
    kind: str, fake_variables: FakeVariables, requests_mock: Any
) -> None:
    requests_mock.post(CREATE_URL, [{"json": v3_created_body("vid-1")}, {"json": v3_created_body("vid-2")}])
    for video_id in ("vid-1", "vid-2"):
        requests_mock.get(video_url(video_id), json=v3_video_body(video_id, "completed"))
    task_instance = TaskInstance(kind, fake_variables)

    succeed(operator(title="Week 49"), task_instance.next_try())
    second = succeed(operator(title="Week 49, corrected"), task_instance.next_try())

    assert creates(requests_mock) == 2
    assert second["video_id"] == "vid-2"
