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
    emulator.add_fault("server_error", method="GET", path="/v1/video_status.get", count=1)
    dag_run = run_dag("it_generate_with_retries")

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


def test_create_answered_with_5xx_fails_once_without_retries(run_dag: Any, emulator: Any) -> None:
    emulator.add_fault("gateway_timeout", method="POST", path="/v2/video/generate", process=True)

    dag_run = run_dag("it_generate_with_retries")

    assert str(dag_run.state) == "failed"
    assert len(video_posts(emulator)) == 1
    assert len(emulator.videos()) == 1, "the video HeyGen created is not paid for twice"


def test_create_rate_limited_is_retried(run_dag: Any, emulator: Any) -> None:
    emulator.add_fault("rate_limited", method="POST", path="/v2/video/generate", count=2, retry_after_seconds=0)

    dag_run = run_dag("it_generate_deferrable")

    assert str(dag_run.state) == "success", task_states(dag_run)
    posts = video_posts(emulator)
    assert [post.status for post in posts] == [429, 429, 200]
