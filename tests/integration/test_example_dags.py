"""The example DAGs, imported and run to success with ``dag.test()`` against the emulator."""

from __future__ import annotations

import ast
import itertools
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLE_DAGS
from tests.integration.conftest import stored_run_folder, task_states, video_posts

EXAMPLES = (
    "heygen_single_video",
    "heygen_data_to_video",
    "heygen_submit_then_sense",
    "heygen_avatar_iv_photos",
    "heygen_template_campaign",
    "heygen_publish_new_videos",
    "heygen_review_before_publish",
)


def imported_packages(path: Path) -> set[str]:
    """The top-level package of every import in a Python file, at any depth (function-level too)."""
    packages = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            packages.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            packages.add("." if node.level else str(node.module).split(".")[0])
    return packages


@pytest.mark.parametrize("example", EXAMPLES)
def test_each_example_is_one_file_a_user_can_copy(example: str) -> None:
    """An example imports the provider, Airflow and the standard library, never a file beside it."""
    foreign = imported_packages(EXAMPLE_DAGS / f"{example}.py") - {"airflow", "heygen_provider", "__future__"}
    assert not foreign - sys.stdlib_module_names, f"{example} imports {sorted(foreign - sys.stdlib_module_names)}"


def test_example_dags_import_cleanly(dagbag: Any) -> None:
    assert dagbag.import_errors == {}
    for dag_id in EXAMPLES:
        assert dagbag.get_dag(dag_id) is not None, dag_id


def test_single_video(run_dag: Any, emulator: Any) -> None:
    dag_run = run_dag("heygen_single_video", customer_name="Grace")

    assert str(dag_run.state) == "success", task_states(dag_run)
    [post] = video_posts(emulator)
    assert post.json["title"] == "Thank you, Grace"
    assert "Grace" in post.json["script"]


def test_data_to_video_renders_stores_and_summarises_one_video_per_row(
    run_dag: Any, emulator: Any, tmp_path: Path
) -> None:
    output = tmp_path / "videos"
    dag_run = run_dag("heygen_data_to_video", output_uri=output.as_uri())

    assert str(dag_run.state) == "success", task_states(dag_run)
    posts = video_posts(emulator)
    regions = sorted(post.json["title"] for post in posts)
    assert regions == [f"Weekly figures: {region}" for region in ("East", "North", "South", "West")]
    day = stored_run_folder(output)
    videos = sorted(day.glob("*.mp4"))
    assert len(videos) == 4
    for video in videos:
        assert video.read_bytes()[4:8] == b"ftyp", video
        assert video.with_suffix(".jpg").stat().st_size > 0
    summary = (day / "summary.html").read_text()
    assert summary.count('class="card"') == 4
    for video in videos:
        assert f'href="{video.name}"' in summary
    assert not list(day.glob(".*.part")), "no partial files are left behind"


@pytest.mark.parametrize("dag_id", ["heygen_submit_then_sense"])
def test_submit_then_sense(run_dag: Any, emulator: Any, tmp_path: Path, dag_id: str) -> None:
    dag_run = run_dag(dag_id, output_uri=(tmp_path / "out").as_uri())

    assert str(dag_run.state) == "success", task_states(dag_run)
    assert len(video_posts(emulator)) == 1
    assert len(list((tmp_path / "out").rglob("*.mp4"))) == 1


def test_avatar_iv_from_photos_uploads_each_photo_once(run_dag: Any, emulator: Any) -> None:
    dag_run = run_dag("heygen_avatar_iv_photos")

    assert str(dag_run.state) == "success", task_states(dag_run)
    assets = emulator.assets()
    assert sorted(asset["filename"] for asset in assets) == ["ada.png", "grace.png"]
    assert all(asset["mime_type"] == "image/png" for asset in assets)
    posts = video_posts(emulator)
    assert len(posts) == 2
    asset_ids = {asset["asset_id"] for asset in assets}
    assert {post.json["image"]["asset_id"] for post in posts} == asset_ids
    assert all(post.json["type"] == "image" and post.json["aspect_ratio"] == "1:1" for post in posts)


#: The operators that submit a paid render.
RENDER_TASK_TYPES = {"HeyGenGenerateVideoOperator", "HeyGenTemplateVideoOperator"}


def paid_examples(dagbag: Any) -> dict[str, Any]:
    dags = {dag_id: dagbag.get_dag(dag_id) for dag_id in EXAMPLES}
    return {
        dag_id: dag
        for dag_id, dag in dags.items()
        if any(task.task_type in RENDER_TASK_TYPES for task in dag.task_dict.values())
    }


def test_every_paid_example_runs_one_run_per_trigger(dagbag: Any) -> None:
    # Unpausing a scheduled DAG (the UI ticks "unpause on trigger") also starts its latest interval:
    # one click would pay for two runs. Their real schedules are in their docstrings and the docs.
    paid = paid_examples(dagbag)
    assert {"heygen_single_video", "heygen_data_to_video", "heygen_review_before_publish"} <= set(paid)
    scheduled = {dag_id: type(dag.timetable).__name__ for dag_id, dag in paid.items() if dag.timetable.can_be_scheduled}
    assert scheduled == {}


def test_every_paid_example_estimates_its_cost_before_paying(dagbag: Any) -> None:
    for dag_id, dag in paid_examples(dagbag).items():
        for task in dag.task_dict.values():
            if task.task_type in RENDER_TASK_TYPES:
                upstream = task.get_flat_relative_ids(upstream=True)
                assert "preflight" in upstream, f"{dag_id}.{task.task_id} renders before any preflight"


def test_the_single_video_preflight_estimates_the_rendered_request(run_dag: Any, emulator: Any) -> None:
    dag_run = run_dag("heygen_single_video", customer_name="Grace")

    assert str(dag_run.state) == "success", task_states(dag_run)
    [preflight] = [ti for ti in dag_run.get_task_instances() if ti.task_id == "preflight"]
    [row] = preflight.xcom_pull(task_ids="preflight")["rows"]
    assert row["label"] == "Thank you, Grace", "the preflight saw the request after Jinja, as the render did"
    assert row["cost_usd"] > 0


def _campaign_diagram() -> list[str]:
    """The lines of the task diagram at the top of docs/campaign-pipeline.rst (its first code block)."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "campaign-pipeline.rst").read_text()
    block = page.split(".. code-block:: text\n\n", 1)[1]
    return [line for line in block.split("\n\n", 1)[0].splitlines() if line.strip()]


def test_the_campaign_pages_diagram_is_the_dags(dagbag: Any) -> None:
    dag = dagbag.get_dag("heygen_data_to_video")
    lines = _campaign_diagram()
    named = {re.sub(r"\s*\(.*?\)", "", step).strip() for line in lines for step in line.split("->")} - {""}

    def tasks(name: str) -> list[Any]:
        # A task by its id, or a task group by its roots.
        if name in dag.task_dict:
            return [dag.task_dict[name]]
        found = [task for task_id, task in dag.task_dict.items() if task_id.endswith(f".{name}")]
        grouped = [task for task_id, task in dag.task_dict.items() if task_id.startswith(f"{name}.")]
        return found or [task for task in grouped if not task.upstream_task_ids & {t.task_id for t in grouped}]

    shown = {task.task_id for name in named for task in tasks(name)}
    assert shown >= set(dag.task_dict), f"tasks missing from the diagram: {set(dag.task_dict) - shown}"
    for line in lines:
        steps = [re.sub(r"\s*\(.*?\)", "", step).strip() for step in line.split("->")]
        for upstream, downstream in itertools.pairwise(steps):
            if not upstream:
                continue
            for before in tasks(upstream):
                assert {task.task_id for task in tasks(downstream)} <= before.downstream_task_ids, (
                    f"{upstream} -> {downstream} is not an edge of the DAG"
                )
