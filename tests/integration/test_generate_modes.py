"""Generate operator and sensor in every mode, with ``dag.test()`` against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import task_states, video_posts


@pytest.mark.parametrize("dag_id", ["it_generate_deferrable", "it_generate_blocking"])
def test_success(run_dag: Any, emulator: Any, dag_id: str) -> None:
    dag_run = run_dag(dag_id)

    assert str(dag_run.state) == "success", task_states(dag_run)
    assert len(video_posts(emulator)) == 1


@pytest.mark.parametrize("dag_id", ["it_generate_deferrable", "it_generate_blocking"])
def test_failed_render_fails_the_task(run_dag: Any, emulator: Any, dag_id: str) -> None:
    dag_run = run_dag(dag_id, title="emulator:fail")

    assert str(dag_run.state) == "failed"
    assert task_states(dag_run)[("generate", -1)] == "failed"
    assert len(video_posts(emulator)) == 1


def test_render_timeout_fails_the_task(run_dag: Any, emulator: Any) -> None:
    dag_run = run_dag("it_generate_short_timeout", title="emulator:stuck")

    assert str(dag_run.state) == "failed"
    assert len(video_posts(emulator)) == 1


@pytest.mark.parametrize("fault", ["rate_limited*2", "server_error*2", "bad_gateway", "service_unavailable", "reset"])
def test_transient_faults_while_polling_are_survived_without_a_second_post(
    run_dag: Any, emulator: Any, fault: str
) -> None:
    dag_run = run_dag("it_generate_deferrable", title=f"emulator:poll={fault}")

    assert str(dag_run.state) == "success", task_states(dag_run)
    assert len(video_posts(emulator)) == 1


def test_completed_with_error_object_is_success(run_dag: Any, emulator: Any) -> None:
    dag_run = run_dag("it_generate_deferrable", title="emulator:completed-with-error")

    assert str(dag_run.state) == "success", task_states(dag_run)


@pytest.mark.parametrize("sensor_mode", ["poke", "reschedule", "deferrable"])
def test_fire_and_forget_then_sensor(run_dag: Any, emulator: Any, sensor_mode: str) -> None:
    dag_run = run_dag(f"it_submit_then_sense_{sensor_mode}")

    assert str(dag_run.state) == "success", task_states(dag_run)
    assert len(video_posts(emulator)) == 1


@pytest.mark.parametrize("sensor_mode", ["poke", "deferrable"])
def test_sensor_fails_on_failed_render(run_dag: Any, emulator: Any, sensor_mode: str) -> None:
    dag_run = run_dag(f"it_submit_then_sense_{sensor_mode}", title="emulator:fail")

    assert str(dag_run.state) == "failed"
    assert task_states(dag_run)[("sense", -1)] == "failed"


def test_mapped_generate_renders_one_video_per_row(run_dag: Any, emulator: Any) -> None:
    dag_run = run_dag("it_generate_mapped")

    assert str(dag_run.state) == "success", task_states(dag_run)
    texts = sorted(post.json["script"] for post in video_posts(emulator))
    assert texts == [f"Hello, customer number {number}." for number in range(1, 4)]
    assert sorted(map_index for (_, map_index) in task_states(dag_run)) == [0, 1, 2]


def test_video_inputs_from_a_json_template_file(run_dag: Any, emulator: Any) -> None:
    dag_run = run_dag("it_generate_from_json_file", title="the quarterly review")

    assert str(dag_run.state) == "success", task_states(dag_run)
    [post] = video_posts(emulator)
    assert post.json["script"] == "Scenes from a JSON template file, for the quarterly review."
    assert post.json["background"] == {"type": "color", "value": "#FAFAFA"}
    # A URL that happens to end in .json is rendered as text, not loaded as a template file.
    assert post.json["callback_url"] == "https://example.invalid/hooks/heygen.json"


def test_the_deprecated_status_path_still_overrides_the_legacy_one(
    run_dag: Any, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = emulator.airflow_connection(api_version="legacy", extra={"video_status_path": "/v3/videos/{video_id}"})
    for name, value in connection.env().items():
        monkeypatch.setenv(name, value)

    dag_run = run_dag("it_generate_deferrable")

    assert str(dag_run.state) == "success", task_states(dag_run)
    [post] = video_posts(emulator)
    assert post.path == "/v2/video/generate"
    assert emulator.requests(path=f"/v3/videos/{post.video_id}")
    assert not emulator.requests(path="/v1/video_status.get")


@pytest.mark.parametrize("dag_id", ["it_generate_deferrable", "it_generate_blocking"])
def test_success_on_the_legacy_api(run_dag: Any, legacy: Any, dag_id: str) -> None:
    dag_run = run_dag(dag_id, title="legacy")

    assert str(dag_run.state) == "success", task_states(dag_run)
    [post] = video_posts(legacy)
    assert post.path == "/v2/video/generate"
    assert legacy.requests(path="/v1/video_status.get")


def test_a_retired_legacy_api_fails_without_retries(run_dag: Any, legacy: Any) -> None:
    # The message (how to switch to v3) is checked at the HTTP boundary in tests/unit/test_hook_v3.py.
    legacy.update_settings(legacy_retired=True)

    dag_run = run_dag("it_generate_with_retries", title="retired")

    assert str(dag_run.state) == "failed"
    assert len(video_posts(legacy)) == 1, "not retried: the legacy API is gone"
