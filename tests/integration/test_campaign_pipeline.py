"""
The campaign pipeline (``heygen_data_to_video``) with a bad row, run for real with ``dag.test()``
against the emulator: one bad row costs one row.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.conftest import stored_run_folder, task_states, video_posts

EXAMPLE_ROWS = Path(__file__).resolve().parents[2] / "example_dags" / "data" / "weekly_figures.csv"
#: The emulator fails this row's render with HeyGen's 40119 (video too long for the plan).
BAD_REGION = "Atlantis emulator:fail"
GENERATE = "render_row.generate_video"
DOWNLOAD = "render_row.download_video"


@pytest.fixture
def rows_with_a_bad_one(tmp_path: Path) -> Path:
    with EXAMPLE_ROWS.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows.insert(2, {**rows[0], "region": BAD_REGION, "manager": "Nemo"})
    path = tmp_path / "figures.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _instances(dag_run: Any, task_id: str) -> dict[int, Any]:
    return {ti.map_index: ti for ti in dag_run.get_task_instances() if ti.task_id == task_id}


def test_one_bad_row_costs_one_row(run_dag: Any, emulator: Any, rows_with_a_bad_one: Path, tmp_path: Path) -> None:
    output = tmp_path / "videos"
    dag_run = run_dag("heygen_data_to_video", rows_uri=rows_with_a_bad_one.as_uri(), output_uri=output.as_uri())

    states = task_states(dag_run)
    # The run ends failed, after storing the good rows and writing the summary.
    assert str(dag_run.state) == "failed", states
    assert states[("write_summary", -1)] == "success", states
    assert states[("every_row_stored", -1)] == "failed", states

    # One render per row: the 40119 failure would repeat, so it was not retried.
    posts = video_posts(emulator)
    titles = Counter(post.json["title"] for post in posts)
    assert len(posts) == 5
    assert set(titles.values()) == {1}, titles
    generate = _instances(dag_run, GENERATE)
    assert str(generate[2].state) == "failed"
    assert generate[2].try_number == 1
    assert [str(generate[index].state) for index in (0, 1, 3, 4)] == ["success"] * 4

    # The good rows were stored anyway; only the bad row's download did not run.
    download = _instances(dag_run, DOWNLOAD)
    assert str(download[2].state) == "upstream_failed"
    day = stored_run_folder(output)
    assert sorted(path.name for path in day.glob("*.mp4")) == ["east.mp4", "north.mp4", "south.mp4", "west.mp4"]
    for video in day.glob("*.mp4"):
        assert video.read_bytes()[4:8] == b"ftyp", video

    # Every row is in the summary; the failed one with HeyGen's reason and its video id.
    [bad_post] = [post for post in posts if BAD_REGION in post.json["title"]]
    [bad_video] = [video for video in emulator.videos() if video["title"] == bad_post.json["title"]]
    summary = (day / "summary.html").read_text()
    assert summary.count('class="card"') == 5
    assert "5 videos: 4 ready, 1 failed" in summary
    assert "code 40119: Video is too long" in summary
    assert f"(video {bad_video['video_id']})" in summary
    for name in ("east", "north", "south", "west"):
        assert f'href="{name}.mp4"' in summary
    # On a loopback connection the video links lead to the emulator's page of each video, failed ones too.
    pages = [f"{emulator.base_url}/videos/{video['video_id']}" for video in emulator.videos()]
    assert all(f'href="{page}"' in summary for page in pages)
    bad_page = requests.get(f"{emulator.base_url}/videos/{bad_video['video_id']}", timeout=10)
    assert bad_page.status_code == 200 and "40119" in bad_page.text

    # What Airflow's API server answers for each task's extra links, from which the UI draws the
    # "Extra Links" heading whenever a task has any: a render task's link opens the video's page; the
    # summary and the downloads wrote to a local folder, which no link could open, so they have none.
    north = next(video for video in emulator.videos() if "North" in video["title"])
    assert extra_links(dag_run, GENERATE, map_index=0) == {
        "HeyGen video": f"{emulator.base_url}/videos/{north['video_id']}"
    }
    assert extra_links(dag_run, "write_summary") == {}
    assert extra_links(dag_run, DOWNLOAD, map_index=0) == {}


def extra_links(dag_run: Any, task_id: str, map_index: int = -1) -> dict[str, str | None]:
    """The api-server's ``GET .../taskInstances/{task_id}/links`` answer, from the same route function."""
    from airflow.api_fastapi.common.dagbag import create_dag_bag
    from airflow.api_fastapi.core_api.routes.public.extra_links import get_extra_links
    from airflow.utils.session import create_session

    with create_session() as session:
        answer = get_extra_links(
            dag_run.dag_id, dag_run.run_id, task_id, session, create_dag_bag(), map_index=map_index
        )
    return dict(answer.extra_links)


def test_mapped_tasks_are_labelled_by_what_they_render(
    run_dag: Any, emulator: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dag_run = run_dag("heygen_data_to_video", output_uri=(tmp_path / "videos").as_uri())

    assert str(dag_run.state) == "success", task_states(dag_run)
    generate = _instances(dag_run, GENERATE)
    download = _instances(dag_run, DOWNLOAD)
    regions = ["North", "South", "East", "West"]
    assert [generate[index].rendered_map_index for index in range(4)] == [f"Weekly figures: {r}" for r in regions]
    assert [download[index].rendered_map_index for index in range(4)] == [r.lower() for r in regions]

    # At submit each task logs its title and the link to the video (the emulator's page, on loopback).
    log = capsys.readouterr().out
    for video in emulator.videos():
        assert (
            f"HeyGen video {video['video_id']} {video['title']!r}: {emulator.base_url}/videos/{video['video_id']}"
            in log
        )
