"""
The fault matrix: every fault of :data:`matrix.FAULTS`, injected through the emulator, against the sync
hook, the trigger and the generate operator in a real ``dag.test()`` run.

Each cell asserts its expectation (see :mod:`tests.reliability.matrix`), counting POSTs and GETs in the
emulator's request log, and records what happened; the last test checks the committed RST table.
"""

from __future__ import annotations

from typing import Any

import pytest

from heygen_provider._compat import AirflowFailException
from heygen_provider.exceptions import (
    HeyGenAPIError,
    HeyGenError,
    HeyGenRateLimitError,
    HeyGenRenderError,
    HeyGenSubmitUncertainError,
    HeyGenTransportError,
)
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.models import VideoStatus
from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator
from heygen_provider.testing.emulator import UNKNOWN_STATUS_VALUE, HeyGenEmulator
from tests.fixtures.timing import fast_policy
from tests.fixtures.triggers import run_status_trigger
from tests.integration.conftest import task_states
from tests.reliability import matrix
from tests.reliability.conftest import SCENE, TaskErrors
from tests.reliability.matrix import (
    CREATE_PATH,
    FAILED_FAST,
    FAULTS,
    NOT_APPLICABLE,
    NOT_RESENT,
    RENDER,
    SLOW_SECONDS,
    STATUS_PATH,
    SURVIVED,
    Fault,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("connect")]

ROWS = pytest.mark.parametrize("fault", FAULTS, ids=[fault.key for fault in FAULTS])
#: Retry-After of the direct hook and trigger cells: recorded, never waited.
LONG_RETRY_AFTER = 30
#: Retry-After of the DAG cells, which really wait.
SHORT_RETRY_AFTER = 1
_SHOWN = {"reset": "reset", "slow": "timed out", "truncated_json": "200 truncated", "html_error_page": "502 HTML"}


# -- helpers -----------------------------------------------------------------------------------------


def shown(entries: list[Any]) -> str:
    """Logged requests as ``429 → 200``."""
    return " → ".join(_SHOWN.get(entry.fault, str(entry.status)) for entry in entries)


def describe(error: BaseException | None) -> str:
    if isinstance(error, HeyGenSubmitUncertainError):
        return (
            f"HeyGenSubmitUncertainError, an AirflowFailException (no Airflow retry), from {describe(error.__cause__)}"
        )
    if isinstance(error, HeyGenAPIError):
        details = [f"HTTP {error.http_status}", *([f"code {error.code}"] if error.code is not None else [])]
        return f"{type(error).__name__} ({', '.join(details)}): {error.message}"
    if isinstance(error, HeyGenTransportError):
        reached = ", may have reached HeyGen" if error.request_may_have_reached_server else ""
        return f"HeyGenTransportError (no answer{reached})"
    if isinstance(error, HeyGenRenderError):
        code = f", code {error.code}" if error.code is not None else ""
        return f"HeyGenRenderError ({error.status}{code}): {error.message}"
    return repr(error)


def error_class(fault: Fault) -> str:
    return fault.error or "HeyGenServerError"


def assert_carries_heygen_error(error: BaseException | None, fault: Fault) -> None:
    """The hook's exception names HeyGen's HTTP status, code and message (or says no answer came)."""
    assert error is not None, f"{fault.key}: the call should have failed"
    # The class or a subclass of it (a legacy create path's 404 says the legacy API may be retired).
    assert error_class(fault) in [kind.__name__ for kind in type(error).__mro__], describe(error)
    if isinstance(error, HeyGenTransportError):
        assert error.request_may_have_reached_server, "the request was sent: it may have reached HeyGen"
        return
    assert isinstance(error, HeyGenAPIError)
    assert error.http_status == fault.http_status
    assert error.code == fault.code
    assert fault.message is not None and fault.message in str(error)
    assert f"HTTP {fault.http_status}" in str(error)
    if fault.code is not None:
        assert f"code {fault.code}" in str(error)


def assert_event_carries_heygen_error(event: dict[str, Any], fault: Fault) -> None:
    assert event["status"] == "error", event
    assert (event["code"], event["http_status"], event["error_class"]) == (fault.code, fault.http_status, fault.error)
    assert event["message"] == fault.message


def add_fault(emulator: HeyGenEmulator, fault: Fault, method: str, count: int, *, retry_after: int) -> None:
    assert fault.emulator_fault is not None
    emulator.add_fault(
        fault.emulator_fault,
        method=method,
        path=CREATE_PATH if method == "POST" else STATUS_PATH,
        count=count,
        process=method == "POST" and fault.create_processed,
        delay_seconds=SLOW_SECONDS,
        retry_after_seconds=retry_after,
    )


def assert_waited_retry_after(fault: Fault, waits: list[float], expected_count: int) -> None:
    """A 429's ``Retry-After`` (30 s here) was honoured: in seconds exactly, as an HTTP date to the second."""
    honoured = [wait for wait in waits if wait > 1]
    assert len(honoured) == expected_count, waits
    if fault.key == "429-seconds":
        assert honoured == [float(LONG_RETRY_AFTER)] * expected_count
    else:
        # An HTTP date has one-second resolution, and the answer took a moment to arrive.
        assert all(LONG_RETRY_AFTER - 5 < wait <= LONG_RETRY_AFTER for wait in honoured), honoured


def assert_status_gets_survived(fault: Fault, gets: list[Any], count: int, waits: list[float]) -> None:
    """``count`` faulted status GETs, then one answered; a 429's Retry-After honoured on the way."""
    assert len(gets) == count + 1 and gets[-1].status == 200, shown(gets)
    if fault.kind == SURVIVED:
        assert_waited_retry_after(fault, waits, count)


def finished_video(emulator: HeyGenEmulator, fault: Fault) -> str:
    """
    A video created without faults that is done at its first poll (render outcomes from the title's magic
    value). Its clock is not advanced: an HTTP-date ``Retry-After`` is read against the real one.
    """
    title = f"{fault.magic or 'fault matrix'} emulator:render-seconds=0"
    created = HeyGenHook(retry_policy=fast_policy()).create_video({"video_inputs": [SCENE], "title": title})
    emulator.clear_requests()
    return created.video_id


def video_with_faulted_status(emulator: HeyGenEmulator, fault: Fault) -> tuple[str, int]:
    """A finished video whose next status GETs get ``fault``; returns its id and how many GETs are faulted."""
    video_id = finished_video(emulator, fault)
    count = 1 if fault.kind == FAILED_FAST else fault.repeats
    if fault.emulator_fault:
        add_fault(emulator, fault, "GET", count, retry_after=LONG_RETRY_AFTER)
    return video_id, count


# -- the sync hook -----------------------------------------------------------------------------------


@ROWS
def test_hook_create_video(fault: Fault, emulator: HeyGenEmulator, recorded_sleeps: list[float]) -> None:
    if fault.kind == RENDER:
        matrix.record(fault, "hook-create", NOT_APPLICABLE)
        return
    count = fault.repeats if fault.kind == SURVIVED else 1
    add_fault(emulator, fault, "POST", count, retry_after=LONG_RETRY_AFTER)
    raised: HeyGenError | None = None
    try:
        HeyGenHook(retry_policy=fast_policy()).create_video({"video_inputs": [SCENE]})
    except HeyGenError as error:
        raised = error
    posts = emulator.requests("POST", CREATE_PATH)
    videos = len(emulator.videos())

    if fault.kind == SURVIVED:
        # v3's 429 rate_limit_exceeded on a create: every render slot is busy. The hook does not sleep on
        # it; the operators wait for a slot in the triggerer (tests/unit/test_render_slots.py).
        assert isinstance(raised, HeyGenRateLimitError), describe(raised)
        assert [post.status for post in posts] == [429], shown(posts)
        assert recorded_sleeps == [], "a refused create is not re-sent within the call"
        assert videos == 0
        text = (
            f"raised at once, for the operator to wait for a render slot: {describe(raised)}; "
            f"1 POST ({shown(posts)}); 0 videos"
        )
    else:
        assert_carries_heygen_error(raised, fault)
        assert len(posts) == 1, f"the create POST must be sent once: {shown(posts)}"
        assert recorded_sleeps == [], "no retry, so no back-off"
        assert videos == (1 if fault.create_processed else 0)
        label = "not re-sent" if fault.kind == NOT_RESENT else "failed fast"
        text = f"{label}: {describe(raised)}; 1 POST ({shown(posts)}); {videos} video{'s' if videos != 1 else ''}"
    matrix.record(fault, "hook-create", text)


@ROWS
def test_hook_get_video_status(fault: Fault, emulator: HeyGenEmulator, recorded_sleeps: list[float]) -> None:
    video_id, count = video_with_faulted_status(emulator, fault)
    raised: HeyGenError | None = None
    try:
        status = HeyGenHook(retry_policy=fast_policy()).get_video_status(video_id)
    except HeyGenError as error:
        raised = error
    gets = emulator.requests("GET", STATUS_PATH)
    assert emulator.requests("POST") == []

    if fault.kind in (SURVIVED, NOT_RESENT):
        assert raised is None, describe(raised)
        assert status.status is VideoStatus.SUCCESS and status.video_url
        assert_status_gets_survived(fault, gets, count, recorded_sleeps)
        text = f"survived: retried; GETs {shown(gets)}"
    elif fault.kind == FAILED_FAST:
        assert_carries_heygen_error(raised, fault)
        assert len(gets) == 1, "401, 403 and 404 are never retried"
        text = f"failed fast: {describe(raised)}; 1 GET"
    else:
        assert raised is None, describe(raised)
        text = _returned_status(fault, status)
    matrix.record(fault, "hook-status", text)


def _returned_status(fault: Fault, status: Any) -> str:
    if fault.key == "unknown-status":
        assert status.status is VideoStatus.PROCESSING and status.service_status == UNKNOWN_STATUS_VALUE
        assert not status.is_terminal
        return f"returned: still running (status {status.service_status!r} read as processing)"
    assert status.error is not None and status.error.code == fault.code and status.error.message == fault.message
    if fault.key == "failed-render":
        assert status.status is VideoStatus.FAILED
        return f"returned: failed, code {status.error.code}: {status.error.message}"
    assert status.status is VideoStatus.SUCCESS and status.video_url
    return f"returned: success, HeyGen's error kept as information (code {status.error.code})"


# -- the trigger -------------------------------------------------------------------------------------


@ROWS
def test_trigger_polling(fault: Fault, emulator: HeyGenEmulator, trigger_waits: list[float]) -> None:
    video_id, count = video_with_faulted_status(emulator, fault)
    event = run_status_trigger(video_id, end_in=1.0 if fault.key == "unknown-status" else 60.0)
    gets = emulator.requests("GET", STATUS_PATH)
    assert emulator.requests("POST") == [], "the trigger never submits"

    if fault.kind in (SURVIVED, NOT_RESENT):
        assert event["status"] == "success", event
        assert event["result"]["video_url"]
        assert_status_gets_survived(fault, gets, count, trigger_waits)
        text = f"survived: kept polling; GETs {shown(gets)}; success event"
    elif fault.kind == FAILED_FAST:
        assert_event_carries_heygen_error(event, fault)
        assert len(gets) == 1
        text = f"failed fast: error event, code {event['code']}: {event['message']}; 1 GET"
    elif fault.key == "unknown-status":
        assert event["status"] == "timeout", event
        assert "render timeout" in event["message"]
        assert len(gets) >= 2 and all(get.status == 200 for get in gets)
        text = "kept polling until the deadline, then a timeout event (never success)"
    else:
        expected = "failed" if fault.key == "failed-render" else "success"
        assert event["status"] == expected, event
        assert (event["code"], event["message"]) == (fault.code, fault.message)
        assert event["result"]["error"]["code"] == fault.code
        text = f"{expected} event, code {event['code']}: {event['message']}"
    matrix.record(fault, "trigger", text)


# -- the operator in a DAG run -----------------------------------------------------------------------


def _generate_ti(dag_run: Any) -> Any:
    (ti,) = [ti for ti in dag_run.get_task_instances() if ti.task_id == "generate"]
    return ti


@ROWS
@pytest.mark.usefixtures("fast_backoff")
def test_dag_fault_on_create(fault: Fault, emulator: HeyGenEmulator, run_dag: Any, task_errors: TaskErrors) -> None:
    if fault.kind == RENDER:
        matrix.record(fault, "dag-create", NOT_APPLICABLE)
        return
    add_fault(emulator, fault, "POST", 1, retry_after=SHORT_RETRY_AFTER)
    dag_run = run_dag("rel_generate")
    posts = emulator.requests("POST", CREATE_PATH)
    videos = len(emulator.videos())

    if fault.kind == SURVIVED:
        assert str(dag_run.state) == "success", (task_states(dag_run), task_errors.errors)
        assert [post.status for post in posts] == [429, 200]
        assert videos == 1
        text = f"task succeeded; POSTs {shown(posts)}; 1 video"
    else:
        assert str(dag_run.state) == "failed"
        assert str(_generate_ti(dag_run).state) == "failed"
        assert len(posts) == 1, f"one POST only: {shown(posts)}"
        assert len(task_errors.errors) == 1
        error = task_errors.last
        if fault.kind == NOT_RESENT:
            assert isinstance(error, HeyGenSubmitUncertainError) and isinstance(error, AirflowFailException)
            assert_carries_heygen_error(error.__cause__, fault)
            assert "not sent again" in str(error) and "reliability-" in str(error), "names the callback_id"
            assert videos == 1
            text = f"task failed, not re-sent: {describe(error)}; 1 POST; 1 video"
        else:
            assert_carries_heygen_error(error, fault)
            assert videos == 0
            text = f"task failed fast: {describe(error)}; 1 POST"
    matrix.record(fault, "dag-create", text)


@pytest.fixture
def fault_when_deferring(emulator: HeyGenEmulator, monkeypatch: pytest.MonkeyPatch) -> list[Fault]:
    """Faults to inject on the status GETs from the moment the operator defers (the trigger's polls)."""
    armed: list[Fault] = []
    original = HeyGenGenerateVideoOperator.defer

    def defer(self: Any, *args: Any, **kwargs: Any) -> Any:
        for fault in armed:
            count = 1 if fault.kind == FAILED_FAST else fault.repeats
            add_fault(emulator, fault, "GET", count, retry_after=SHORT_RETRY_AFTER)
        armed.clear()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(HeyGenGenerateVideoOperator, "defer", defer)
    return armed


@ROWS
@pytest.mark.usefixtures("fast_backoff")
def test_dag_fault_while_deferred(
    fault: Fault, emulator: HeyGenEmulator, run_dag: Any, task_errors: TaskErrors, fault_when_deferring: list[Fault]
) -> None:
    if fault.emulator_fault:
        fault_when_deferring.append(fault)
    # Long enough that the render is still running at the operator's own status check, even on a
    # loaded machine: a render already done there is (rightly) never deferred, and the fault never armed.
    emulator.update_settings(render_seconds=2.0)
    dag_id = "rel_generate_short_timeout" if fault.key == "unknown-status" else "rel_generate"
    dag_run = run_dag(dag_id, **({"title": fault.magic} if fault.magic else {}))
    assert fault_when_deferring == [], "the operator deferred, arming the fault"
    posts = emulator.requests("POST", CREATE_PATH)
    assert [post.status for post in posts] == [200], "exactly one POST, whatever happens while waiting"
    faulted = [entry for entry in emulator.requests("GET", STATUS_PATH) if entry.fault]
    ti = _generate_ti(dag_run)

    if fault.kind in (SURVIVED, NOT_RESENT):
        assert str(dag_run.state) == "success", (task_states(dag_run), task_errors.errors)
        assert len(faulted) == fault.repeats
        assert task_errors.results[-1]["video_url"]
        text = f"task succeeded; faulted polls {shown(faulted)}; 1 POST"
    elif fault.key == "completed-with-error":
        assert str(dag_run.state) == "success", (task_states(dag_run), task_errors.errors)
        result = ti.xcom_pull(task_ids="generate")
        assert result["error"]["code"] == fault.code and result["video_url"]
        text = f"task succeeded; the error (code {fault.code}) kept in the XCom result; 1 POST"
    else:
        assert str(dag_run.state) == "failed" and str(ti.state) == "failed"
        error = task_errors.last
        if fault.kind == FAILED_FAST:
            # The class the same fault raises on the worker, though it happened in the triggerer.
            assert type(error).__name__ == fault.error, describe(error)
            assert isinstance(error, HeyGenAPIError)
            assert len(faulted) == 1
            assert (error.http_status, error.code, error.message) == (fault.http_status, fault.code, fault.message)
        elif fault.key == "failed-render":
            assert isinstance(error, HeyGenRenderError), describe(error)
            assert (error.status, error.code, error.message) == ("failed", fault.code, fault.message)
        else:
            assert isinstance(error, HeyGenRenderError), describe(error)
            assert error.status == "timeout", "an unknown status never counts as success"
        text = f"task failed: {describe(error)}; 1 POST"
    matrix.record(fault, "dag-wait", text)


# -- an uncertain create is not retried by Airflow either ----------------------------------------------


@pytest.mark.parametrize("fault", [fault for fault in FAULTS if fault.kind == NOT_RESENT and fault.key != "slow"])
@pytest.mark.usefixtures("fast_backoff")
def test_uncertain_create_fails_without_airflow_retries(
    fault: Fault, emulator: HeyGenEmulator, run_dag: Any, task_errors: TaskErrors
) -> None:
    add_fault(emulator, fault, "POST", 1, retry_after=SHORT_RETRY_AFTER)

    dag_run = run_dag("rel_generate_with_retries")

    assert str(dag_run.state) == "failed"
    ti = _generate_ti(dag_run)
    assert str(ti.state) == "failed" and ti.try_number == 1, "retries=2, yet no second try"
    assert len(emulator.requests("POST", CREATE_PATH)) == 1
    assert len(emulator.videos()) == 1
    assert isinstance(task_errors.last, HeyGenSubmitUncertainError)


# -- the table ---------------------------------------------------------------------------------------


def test_committed_fault_matrix_is_current() -> None:
    """Runs last: ``docs/_generated/fault_matrix.rst`` must show what this run observed."""
    if not matrix.complete():
        pytest.skip("only part of the fault matrix ran in this session")
    produced = matrix.render_rst()
    if matrix.update_requested():
        matrix.MATRIX_FILE.parent.mkdir(parents=True, exist_ok=True)
        matrix.MATRIX_FILE.write_text(produced, encoding="utf-8")
        return
    committed = matrix.MATRIX_FILE.read_text(encoding="utf-8") if matrix.MATRIX_FILE.exists() else ""
    assert committed == produced, (
        f"{matrix.MATRIX_FILE.relative_to(matrix.REPOSITORY)} differs from the fault matrix this run observed. "
        f"Regenerate it with `{matrix.UPDATE_ENV}=1 .venv/bin/python -m pytest tests/reliability "
        "-p no:cacheprovider`, review the diff, and commit it with "
        "`git add -f docs/_generated/fault_matrix.rst`."
    )
