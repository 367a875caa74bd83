"""The campaign pipeline's budget in real Airflow (``dag.test()``) against the emulator: over budget, the
run stops before any render; within it, the summary shows each estimate beside the actual duration."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.integration.conftest import stored_run_folder, task_states, video_posts


def test_over_max_cost_the_run_stops_before_any_render(run_dag: Any, emulator: Any, tmp_path: Path) -> None:
    dag_run = run_dag("heygen_data_to_video", output_uri=(tmp_path / "videos").as_uri(), max_cost=0.5)

    assert str(dag_run.state) == "failed"
    states = task_states(dag_run)
    assert states[("preflight", -1)] == "failed", states
    assert all(state == "upstream_failed" for (task_id, _), state in states.items() if task_id.startswith("render_row"))
    assert video_posts(emulator) == []
    assert len(emulator.requests(method="GET", path="/v3/users/me")) == 1


def test_over_the_remaining_credit_the_run_stops_before_any_render(run_dag: Any, emulator: Any, tmp_path: Path) -> None:
    emulator.update_settings(remaining_quota=30.0)  # about $2 left: less than four videos

    dag_run = run_dag("heygen_data_to_video", output_uri=(tmp_path / "videos").as_uri(), max_cost=None)

    assert str(dag_run.state) == "failed"
    assert task_states(dag_run)[("preflight", -1)] == "failed"
    assert video_posts(emulator) == []


def test_within_budget_the_summary_shows_estimate_against_actual(run_dag: Any, emulator: Any, tmp_path: Path) -> None:
    output = tmp_path / "videos"
    dag_run = run_dag("heygen_data_to_video", output_uri=output.as_uri(), max_cost=100.0)

    assert str(dag_run.state) == "success", task_states(dag_run)
    assert len(video_posts(emulator)) == 4
    day = stored_run_folder(output)
    summary = (day / "summary.html").read_text()
    shown = re.findall(r"(\d+) s \(estimated (\d+) s, \$(\d+\.\d\d)\)", summary)
    assert len(shown) == 4, summary
    for actual, estimated, cost in shown:
        assert int(actual) > 0 and int(estimated) > 0 and float(cost) > 0
