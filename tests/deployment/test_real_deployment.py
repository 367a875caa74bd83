"""
``heygen_data_to_video`` in a real Airflow deployment: separate api-server, scheduler, dag-processor and
triggerer processes, LocalExecutor, against the emulator running in its own process.

It proves that the generate tasks defer and the triggerer does the waiting, and that killing the
triggerer while renders are in flight loses nothing and pays for nothing twice.
"""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from heygen_provider.testing.emulator import EmulatorSettings, HeyGenEmulator
from tests.conftest import EXAMPLE_DAGS
from tests.deployment.airflow_deployment import AirflowDeployment, running_deployment, wait_until

pytestmark = pytest.mark.deployment

DAG_ID = "heygen_data_to_video"
#: The generate task, at the top level or inside a (mapped) task group such as ``render_row``.
GENERATE_TASK = re.compile(r"task_id=([\w-]+\.)?generate_video\b")
ROWS = 4
# Long enough that renders are still in flight when the triggerer is killed, even on a busy machine.
RENDER_SECONDS = 45.0
#: Recognisable, so a leak into any log file of the deployment would be found.
API_KEY = "sk-DEPLOYMENT-LEAKCHECK-7f3a9c"


@pytest.fixture
def emulator() -> Iterator[HeyGenEmulator]:
    settings = EmulatorSettings(render_seconds=RENDER_SECONDS, api_keys=(API_KEY,))
    with HeyGenEmulator(settings, in_subprocess=True) as running:
        yield running


@pytest.fixture
def deployment(tmp_path: Path, emulator: HeyGenEmulator) -> Iterator[AirflowDeployment]:
    home = tmp_path / "airflow-home"
    home.mkdir()
    env = {
        **emulator.airflow_connection().env(),
        "HEYGEN_POLL_INTERVAL": "1",
        "HEYGEN_OUTPUT_URI": (tmp_path / "videos").as_uri(),
    }
    with running_deployment(home, EXAMPLE_DAGS, env) as airflow:
        yield airflow


def test_data_to_video_defers_survives_a_triggerer_restart_and_pays_once(
    deployment: AirflowDeployment, emulator: HeyGenEmulator, tmp_path: Path
) -> None:
    deployment.wait_for_dag(DAG_ID)
    # The example has no schedule, so each trigger is one run: two runs render, each into its own folder.
    deployment.cli("dags", "unpause", DAG_ID)
    for run in ("first", "second"):
        conf = {"output_uri": (tmp_path / "videos" / run).as_uri()}
        deployment.cli("dags", "trigger", DAG_ID, "--conf", json.dumps(conf))
    wait_until(lambda: len(run_states(deployment)) == 2, 60, "two DAG runs", deployment.diagnose)
    videos = ROWS * 2

    # Renders submitted and waiting in the triggerer (the executor starts four tasks at a time).
    wait_until(
        lambda: generate_states(deployment).count("deferred") >= ROWS,
        180,
        "generate tasks deferred",
        deployment.diagnose,
    )
    in_flight = [job for job in emulator.videos() if job["status"] != "completed"]
    assert in_flight, "renders must still be running when the triggerer dies"
    assert deployment.query("SELECT count(*) FROM trigger")[0][0] >= ROWS

    # The triggerer dies mid-render; a new one takes the triggers over from the database.
    deployment.kill("triggerer", signal.SIGKILL)
    deployment.start("triggerer")

    wait_until(
        lambda: all(state in ("success", "failed") for state in run_states(deployment)),
        300,
        "the DAG runs to finish",
        deployment.diagnose,
    )
    assert run_states(deployment) == ["success", "success"], deployment.diagnose()

    posts = emulator.requests(method="POST", path="/v3/videos")
    assert len(posts) == videos, "exactly one POST per video, through the triggerer restart"
    assert len({post.video_id for post in posts}) == videos
    assert generate_states(deployment) == ["success"] * videos
    stored = list((tmp_path / "videos").rglob("*.mp4"))
    assert len(stored) == videos
    assert len(list((tmp_path / "videos").rglob("summary.html"))) == 2

    # The waiting happened in the triggerer: the generate tasks' logs hold the trigger's polling.
    trigger_logs = [
        path
        for path in (deployment.home / "logs").rglob("*trigger*")
        if GENERATE_TASK.search(str(path)) and path.is_file()
    ]
    assert trigger_logs, "no trigger logs found for the generate tasks"
    logged = "\n".join(path.read_text(errors="replace") for path in trigger_logs)
    assert logged.count("is completed") >= videos

    # Nothing any process wrote, task and trigger logs included, holds the API key.
    written = [path for path in deployment.home.rglob("*") if path.is_file() and path.suffix != ".db"]
    leaks = [str(path) for path in written if API_KEY.encode() in path.read_bytes()]
    assert not leaks, f"the API key leaked into {leaks}"


def run_states(deployment: AirflowDeployment) -> list[str]:
    return sorted(
        str(state) for (state,) in deployment.query("SELECT state FROM dag_run WHERE dag_id = :dag_id", dag_id=DAG_ID)
    )


def generate_states(deployment: AirflowDeployment) -> list[str]:
    rows = deployment.query(
        "SELECT state FROM task_instance WHERE dag_id = :dag_id AND (task_id = 'generate_video' "
        "OR task_id LIKE '%.generate_video')",
        dag_id=DAG_ID,
    )
    return sorted(str(state) for (state,) in rows)
