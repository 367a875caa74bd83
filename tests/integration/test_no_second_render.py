"""A retry, a flaky network or an ambiguous answer never pays for a second render."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import task_states, video_posts


def test_retry_after_submit_reattaches_to_the_first_video(
    run_dag: Any, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One attempt per call, and the status check right after the submit answers 500 (a fault an
    # Airflow retry may mend): the first try fails after paying, and the retry must re-attach.
    for name, value in emulator.airflow_connection(extra={"retry_attempts": 1}).env().items():
        monkeypatch.setenv(name, value)
    emulator.add_fault("server_error", method="GET", path="/v3/videos/*", count=1)
    dag_run = run_dag("it_generate_with_retries", title="re-attach")

    assert str(dag_run.state) == "success", task_states(dag_run)
    assert len(video_posts(emulator)) == 1


def test_a_render_failure_that_may_not_repeat_is_resubmitted_on_retry(run_dag: Any, emulator: Any) -> None:
    dag_run = run_dag("it_generate_with_retries", title="emulator:fail-internal")

    assert str(dag_run.state) == "failed"
    assert len(video_posts(emulator)) == 3, "each try renders anew after a failed render"


def test_a_render_failure_that_would_repeat_is_not_retried(run_dag: Any, emulator: Any) -> None:
    # 40119, video too long for the plan: every retry would pay for the same failure.
    dag_run = run_dag("it_generate_with_retries", title="emulator:fail")

    assert str(dag_run.state) == "failed"
    assert len(video_posts(emulator)) == 1


@pytest.mark.parametrize("fault", ["gateway_timeout", "server_error", "reset", "slow"])
def test_v3_create_answered_with_a_fault_after_creating_is_sent_again_and_renders_once(
    run_dag: Any, emulator: Any, fault: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # HeyGen created the video but the answer was lost: the same idempotency key gets it back.
    for name, value in emulator.airflow_connection(extra={"create_timeout": 1}).env().items():
        monkeypatch.setenv(name, value)
    emulator.add_fault(fault, method="POST", path="/v3/videos", process=True, count=1, delay_seconds=2)

    # The title is always given: dag.test() keeps the last run's params on the session's DAG object.
    dag_run = run_dag("it_generate_with_retries", title="lost answer")

    assert str(dag_run.state) == "success", task_states(dag_run)
    posts = video_posts(emulator)
    # A slow answer may also meet a 409 while the first POST is still in flight: more POSTs, one key.
    assert len(posts) >= 2 and len({post.idempotency_key for post in posts}) == 1
    assert len(emulator.videos()) == 1, "a second POST with the same key is not a second render"


def test_v3_create_in_progress_is_waited_out(run_dag: Any, emulator: Any) -> None:
    emulator.update_settings(create_delay_seconds=1.5)
    emulator.add_fault("server_error", method="POST", path="/v3/videos", count=1)

    dag_run = run_dag("it_generate_with_retries", title="in progress")

    assert str(dag_run.state) == "success", task_states(dag_run)
    assert len(emulator.videos()) == 1


def test_legacy_create_answered_with_5xx_fails_once_without_retries(run_dag: Any, legacy: Any) -> None:
    emulator = legacy
    emulator.add_fault("gateway_timeout", method="POST", path="/v2/video/generate", process=True)

    dag_run = run_dag("it_generate_with_retries")

    assert str(dag_run.state) == "failed"
    assert len(video_posts(emulator)) == 1
    assert len(emulator.videos()) == 1, "the video HeyGen created is not paid for twice"


def test_create_rate_limited_is_retried(run_dag: Any, emulator: Any) -> None:
    emulator.add_fault("rate_limited", method="POST", path="/v3/videos", count=2, retry_after_seconds=0)

    dag_run = run_dag("it_generate_deferrable")

    assert str(dag_run.state) == "success", task_states(dag_run)
    posts = video_posts(emulator)
    assert [post.status for post in posts] == [429, 429, 200]
