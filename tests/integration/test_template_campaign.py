"""The template operator in real Airflow (``dag.test()``) against the emulator: mapped rows, a bad row
refused before it is paid for, and a retry that re-attaches instead of rendering again."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import stored_run_folder, task_states, xcom_value

TEMPLATE_PATH = "/v3/templates/tpl_weekly_update"
GOOD_ROW = {
    "manager_name": "Ada Lovelace",
    "region": "North",
    "headline": "Revenue is up.",
    "logo": "https://www.example.com/logo.png",
}


def template_posts(emulator: Any) -> list[Any]:
    return emulator.requests(method="POST", path=TEMPLATE_PATH)


def preflight_rows(dag_run: Any) -> list[dict[str, Any]]:
    """The preflight task's estimate rows: the task returns a dict, so TaskFlow also pushes each key."""
    return list(xcom_value(dag_run, "preflight", "rows"))


def write_rows(path: Path, rows: list[dict[str, str]]) -> str:
    columns = sorted({column for row in rows for column in row})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def test_one_video_per_row_rendered_from_the_template_and_stored(run_dag: Any, emulator: Any, tmp_path: Path) -> None:
    output = tmp_path / "videos"
    dag_run = run_dag("heygen_template_campaign", output_uri=output.as_uri())

    assert str(dag_run.state) == "success", task_states(dag_run)
    posts = template_posts(emulator)
    assert sorted(post.json["title"] for post in posts) == [f"Weekly update: {r}" for r in ("East", "North", "South")]
    assert {post.json["variables"]["region"]["properties"]["content"] for post in posts} == {"North", "South", "East"}
    assert all(post.json["variables"]["logo"]["type"] == "image" for post in posts)
    assert len({post.idempotency_key for post in posts}) == 3, "each mapped row has its own key"
    day = stored_run_folder(output)
    assert sorted(video.name for video in day.glob("*.mp4")) == ["east.mp4", "north.mp4", "south.mp4"]


def test_a_row_that_does_not_fit_the_template_fails_alone_before_any_post(
    run_dag: Any, emulator: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A CSV gives every row the same columns: a bad row is one with a bad cell.
    bad = {"manager_name": "Grace Hopper", "region": "South", "headline": "", "logo": "logo.png"}
    rows = write_rows(tmp_path / "rows.csv", [GOOD_ROW, bad])

    dag_run = run_dag("heygen_template_campaign", output_uri=(tmp_path / "out").as_uri(), rows_uri=rows)

    assert str(dag_run.state) == "failed"
    states = task_states(dag_run)
    assert states[("render_row.render_template", 0)] == "success", states
    assert states[("render_row.render_template", 1)] == "failed", states
    # The bad row was read (GET) but never paid for (no POST with its variables).
    posts = template_posts(emulator)
    assert [post.json["variables"]["manager_name"]["properties"]["content"] for post in posts] == ["Ada Lovelace"]
    assert len(emulator.requests(method="GET", path=TEMPLATE_PATH)) >= 2
    logged = "".join(capsys.readouterr())
    for problem in (
        "variables.headline: must not be empty",
        "variables.logo: must be an http(s) URL",
    ):
        assert problem in logged
    # The preflight listed the bad row as invalid and estimated the good one from the template's script.
    assert states[("preflight", -1)] == "success", states
    north, south = preflight_rows(dag_run)
    assert north["label"] == "Weekly update: North" and north["problems"] == []
    assert north["engine"] == "template" and north["seconds"] > 0 and north["words"] > 3
    assert south["label"] == "Weekly update: South" and south["cost_usd"] == 0
    assert any(problem.startswith("variables.headline: must not be empty") for problem in south["problems"])


def test_over_max_cost_the_template_campaign_stops_before_any_render(
    run_dag: Any, emulator: Any, tmp_path: Path
) -> None:
    dag_run = run_dag("heygen_template_campaign", output_uri=(tmp_path / "out").as_uri(), max_cost=0.01)

    assert str(dag_run.state) == "failed"
    states = task_states(dag_run)
    assert states[("preflight", -1)] == "failed", states
    assert all(state == "upstream_failed" for (task_id, _), state in states.items() if task_id.startswith("render_row"))
    assert template_posts(emulator) == []
    # The template was read once, by the preflight, for every row.
    assert len(emulator.requests(method="GET", path=TEMPLATE_PATH)) == 1


def test_a_retry_after_the_submit_reattaches_without_a_second_post(
    run_dag: Any, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One attempt per call, and the status check right after the submit answers 500: the first try
    # fails after paying, and the retry must re-attach to its video.
    for name, value in emulator.airflow_connection(extra={"retry_attempts": 1}).env().items():
        monkeypatch.setenv(name, value)
    emulator.add_fault("server_error", method="GET", path="/v3/videos/*", count=1)

    dag_run = run_dag("it_template_with_retries", title="template re-attach")

    assert str(dag_run.state) == "success", task_states(dag_run)
    assert len(template_posts(emulator)) == 1
    assert len(emulator.videos()) == 1


def test_a_lost_create_answer_is_sent_again_with_its_key_and_renders_once(
    run_dag: Any, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in emulator.airflow_connection(extra={"create_timeout": 1}).env().items():
        monkeypatch.setenv(name, value)
    emulator.add_fault("gateway_timeout", method="POST", path=TEMPLATE_PATH, process=True, count=1)

    dag_run = run_dag("it_template_with_retries", title="template lost answer")

    assert str(dag_run.state) == "success", task_states(dag_run)
    posts = template_posts(emulator)
    assert len(posts) >= 2 and len({post.idempotency_key for post in posts}) == 1
    assert len(emulator.videos()) == 1
