"""A retry, a flaky network or an ambiguous answer never pays for a second render."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import task_states, video_posts


def test_retry_after_submit_reattaches_to_the_first_video(run_dag: Any, emulator: Any) -> None:
    # The status check right after the submit is refused, so the first try fails after paying.
    dag_run = run_dag("it_generate_with_retries", title="emulator:poll=unauthorized")

    assert str(dag_run.state) == "success", task_states(dag_run)
    assert len(video_posts(emulator)) == 1


def test_failed_render_is_resubmitted_on_retry(run_dag: Any, emulator: Any) -> None:
    dag_run = run_dag("it_generate_with_retries", title="emulator:fail")

    assert str(dag_run.state) == "failed"
    assert len(video_posts(emulator)) == 3, "each try renders anew after a failed render"


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
