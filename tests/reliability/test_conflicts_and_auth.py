"""
Issue 27, items 5 and 6: what a 409 and a 401 or 403 cost.

* Item 5: only a 409 ``request_in_progress`` (a keyed create still in flight at HeyGen) is waited out.
  Any other 409 (say, an idempotency key reused with another body) was read as "in progress" too: retried
  five times per try, then handed to Airflow's retries, 15 POSTs with ``retries=2``. It is now one POST
  and a failure Airflow does not retry either.
* Item 6: a 401 or 403 was an ``AirflowFailException``, so a transient 401 on the status check right after
  a paid create failed the task for good although the user asked for retries. The hook still never
  retries it within a call, but the task's own retries act, and the retry re-attaches to the video it
  paid for.

HTTP is mocked at the boundary (requests-mock, a loopback aiohttp server) or served by the emulator under
a real ``dag.test()``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests_mock as requests_mocking
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heygen_provider._compat import AirflowFailException
from heygen_provider.exceptions import (
    HeyGenAPIError,
    HeyGenAuthenticationError,
    HeyGenIdempotencyConflictError,
    HeyGenRequestInProgressError,
    is_retryable,
)
from heygen_provider.hooks import cache
from heygen_provider.hooks.answers import parse_response
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.models.event import VideoEvent
from heygen_provider.retry import RetryPolicy
from heygen_provider.testing.emulator import HeyGenEmulator
from heygen_provider.triggers.loop_state import TriggererLoopState
from tests.fixtures.connections import BASE_URL, connection_json
from tests.fixtures.loopback import start_status_server
from tests.fixtures.scenes import scene
from tests.reliability.conftest import TaskErrors

V3_CREATE = "/v3/videos"
LEGACY_CREATE = "/v2/video/generate"
SCENE = scene("Hello.")
KEY = "airflow-heygen:conflict-test"
#: The connection's default attempts, without waiting between them.
NO_WAIT = RetryPolicy(attempts=5, initial_delay=0.0, max_delay=0.0)
CREATED = {"data": {"video_id": "vid-1"}}

#: A 409's error code that is not ``request_in_progress``, whatever its case and spacing.
OTHER_CODES = st.one_of(
    st.sampled_from(["idempotency_key_reused", "idempotency_conflict", "conflict", "key_in_use", ""]),
    st.text(max_size=40),
).filter(lambda code: code.strip().lower() != "request_in_progress")


def conflict_bodies() -> st.SearchStrategy[bytes]:
    """409 bodies of every shape HeyGen or a proxy uses, none of them saying ``request_in_progress``."""
    v3 = OTHER_CODES.map(lambda code: {"error": {"code": code, "message": "Idempotency key reused", "param": None}})
    v2 = st.just({"data": None, "error": "Idempotency-Key was used with a different request body"})
    legacy = st.integers(min_value=101, max_value=10**6).map(lambda code: {"code": code, "message": "conflict"})
    as_json = st.one_of(v3, v2, legacy).map(lambda payload: json.dumps(payload).encode())
    other = st.sampled_from([b"", b"<html><title>409 Conflict</title></html>", b"conflict"])
    return st.one_of(as_json, other)


@pytest.fixture
def v3_connection(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AIRFLOW_CONN_HEYGEN_DEFAULT", connection_json())
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    cache.forget_settings("heygen_default")
    yield "heygen_default"
    cache.forget_settings("heygen_default")


# -- item 5: a 409 other than request_in_progress ----------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=conflict_bodies(), template=st.booleans())
def test_a_conflict_409_on_a_keyed_create_is_one_post_and_no_airflow_retry(
    v3_connection: str, body: bytes, template: bool
) -> None:
    path = "/v3/templates/tpl-1" if template else V3_CREATE
    hook = HeyGenHook(v3_connection, retry_policy=NO_WAIT)
    with requests_mocking.Mocker() as mocked:
        mocked.post(f"{BASE_URL}{path}", [{"status_code": 409, "content": body}, {"json": CREATED}])
        with pytest.raises(HeyGenIdempotencyConflictError) as raised:
            if template:
                hook.create_template_video("tpl-1", {"variables": {}}, idempotency_key=KEY)
            else:
                hook.create_video({"video_inputs": [SCENE]}, idempotency_key=KEY)
        assert mocked.call_count == 1, "a conflict is not waited out"
    error = raised.value
    assert isinstance(error, AirflowFailException) and not is_retryable(error), "Airflow's retries would POST again"
    assert error.http_status == 409
    assert "HTTP 409" in str(error)


@pytest.mark.parametrize("code", ["request_in_progress", "REQUEST_IN_PROGRESS", " request_in_progress "])
def test_request_in_progress_alone_is_still_waited_out(v3_connection: str, code: str) -> None:
    in_progress = {"error": {"code": code, "message": "in progress", "param": "Idempotency-Key"}}
    hook = HeyGenHook(v3_connection, retry_policy=NO_WAIT)
    with requests_mocking.Mocker() as mocked:
        mocked.post(f"{BASE_URL}{V3_CREATE}", [{"status_code": 409, "json": in_progress}, {"json": CREATED}])
        assert hook.create_video({"video_inputs": [SCENE]}, idempotency_key=KEY).video_id == "vid-1"
        assert mocked.call_count == 2
    with pytest.raises(HeyGenRequestInProgressError):
        parse_response(409, json.dumps(in_progress).encode())


@settings(max_examples=30, deadline=None)
@given(body=conflict_bodies())
def test_the_async_path_reads_a_conflict_409_the_same_way(body: bytes) -> None:
    """The triggerer's status GETs: one retry policy for both paths, so one GET and a final error."""
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response(status=409, body=body, content_type="application/json")

    async def poll() -> BaseException:
        runner, base_url = await start_status_server(handle)
        try:
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("AIRFLOW_CONN_CONFLICT_ASYNC", connection_json(host=base_url))
                cache.forget_settings("conflict_async")
                # Held as a trigger's wait holds it: the loop's session closes when the call is done.
                async with TriggererLoopState.of_running_loop():
                    with pytest.raises(HeyGenAPIError) as raised:
                        await HeyGenHook("conflict_async", retry_policy=NO_WAIT).aget_video_status("vid-1")
                return raised.value
        finally:
            cache.forget_settings("conflict_async")
            await runner.cleanup()

    error = asyncio.run(poll())
    assert type(error) is HeyGenIdempotencyConflictError
    assert seen == ["/v3/videos/vid-1"]


@pytest.mark.integration
@pytest.mark.usefixtures("fast_backoff")
def test_a_conflict_409_in_a_dag_run_with_retries_is_one_post(
    emulator: HeyGenEmulator, run_dag: Any, task_errors: TaskErrors
) -> None:
    """``retries=2``: before, 15 POSTs (5 per try); now one, and the task fails without a second try."""
    conflict = {"error": {"code": "idempotency_key_reused", "message": "Key reused with another body"}}
    with requests_mocking.Mocker(real_http=True) as mocked:
        create = mocked.post(f"{emulator.base_url}{V3_CREATE}", status_code=409, json=conflict)
        dag_run = run_dag("rel_generate_with_retries", title="conflicting key")

    [ti] = [ti for ti in dag_run.get_task_instances() if ti.task_id == "generate"]
    assert (str(dag_run.state), str(ti.state), ti.try_number) == ("failed", "failed", 1)
    assert create.call_count == 1
    assert isinstance(task_errors.last, HeyGenIdempotencyConflictError), task_errors.last
    assert "idempotency_key_reused" in str(task_errors.last)


# -- item 6: a 401 or 403 lets the task's own retries act ----------------------------------------------


@pytest.mark.parametrize(
    ("status_code", "payload"),
    [
        (401, {"error": {"code": "unauthorized", "message": "Invalid API key"}}),
        (401, {"code": 400112, "message": "Unauthorized"}),
        (403, {"error": {"code": "forbidden", "message": "No access"}}),
    ],
    ids=["401-v3", "401-legacy", "403"],
)
def test_a_401_or_403_is_never_retried_in_the_call_but_airflow_may_retry(
    v3_connection: str, status_code: int, payload: dict[str, Any]
) -> None:
    hook = HeyGenHook(v3_connection, retry_policy=NO_WAIT)
    with requests_mocking.Mocker() as mocked:
        mocked.get(f"{BASE_URL}/v3/videos/vid-1", [{"status_code": status_code, "json": payload}, {"json": CREATED}])
        with pytest.raises(HeyGenAuthenticationError) as raised:
            hook.get_video_status("vid-1")
        assert mocked.call_count == 1
    assert not isinstance(raised.value, AirflowFailException)
    assert is_retryable(raised.value)

    # The same fault met in the triggerer is rebuilt on the worker as the same, retryable, class.
    event = VideoEvent.from_payload(VideoEvent.from_error("vid-1", raised.value).to_payload())
    with pytest.raises(HeyGenAuthenticationError) as rebuilt:
        event.result_or_raise()
    assert not isinstance(rebuilt.value, AirflowFailException)
    assert (rebuilt.value.http_status, rebuilt.value.code) == (status_code, raised.value.code)


@pytest.mark.integration
@pytest.mark.usefixtures("fast_backoff")
@pytest.mark.parametrize(
    ("api", "fault", "path"),
    [
        # The worker's status check right after the create.
        ("v3", "unauthorized", "/v3/videos/*"),
        ("v3", "forbidden", "/v3/videos/*"),
        ("legacy", "unauthorized", "/v1/video_status.get"),
        # The triggerer's bulk poll: the error event is rebuilt on the worker.
        ("v3", "unauthorized", "/v3/videos/statuses"),
    ],
    ids=["v3-401-status-check", "v3-403-status-check", "legacy-401-status-check", "v3-401-in-the-triggerer"],
)
def test_a_transient_401_after_the_create_is_retried_by_airflow_and_paid_once(
    api: str,
    fault: str,
    path: str,
    emulator: HeyGenEmulator,
    monkeypatch: pytest.MonkeyPatch,
    run_dag: Any,
    task_errors: TaskErrors,
) -> None:
    if api == "legacy":
        for name, value in emulator.airflow_connection(api_version="legacy").env().items():
            monkeypatch.setenv(name, value)
    create_path = LEGACY_CREATE if api == "legacy" else V3_CREATE
    emulator.add_fault(fault, method="GET", path=path, count=1)

    dag_run = run_dag("rel_generate_with_retries", title=f"transient {fault} on {api}")

    [ti] = [ti for ti in dag_run.get_task_instances() if ti.task_id == "generate"]
    assert (str(dag_run.state), ti.try_number) == ("success", 2), task_errors.errors
    assert [type(error) for error in task_errors.errors] == [HeyGenAuthenticationError]
    [faulted] = [entry for entry in emulator.requests(method="GET") if entry.fault == fault]
    assert faulted.status in (401, 403)
    assert len(emulator.requests("POST", create_path)) == 1, "the retry re-attached instead of paying again"
    assert len(emulator.videos()) == 1
    assert task_errors.results[-1]["video_url"]
