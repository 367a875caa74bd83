"""
``heygen_data_to_video`` in a real Airflow deployment: separate api-server, scheduler, dag-processor and
triggerer processes, LocalExecutor, against the emulator running in its own process.

It proves that the generate tasks defer and the triggerer does the waiting, and that killing the
triggerer while renders are in flight loses nothing and pays for nothing twice.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from heygen_provider.testing.emulator import EmulatorSettings, HeyGenEmulator
from tests.conftest import EXAMPLE_DAGS
from tests.deployment.airflow_deployment import COMPONENTS, AirflowDeployment, wait_until

pytestmark = pytest.mark.deployment

DAG_ID = "heygen_data_to_video"
ROWS = 4
RENDER_SECONDS = 20.0


@pytest.fixture
def emulator() -> Iterator[HeyGenEmulator]:
    with HeyGenEmulator(EmulatorSettings(render_seconds=RENDER_SECONDS), in_subprocess=True) as running:
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
    airflow = AirflowDeployment(home, EXAMPLE_DAGS, env)
    try:
        airflow.cli("db", "migrate", timeout=300)
        for component in COMPONENTS:
            airflow.start(component)
        airflow.wait_healthy(("metadatabase", "scheduler", "triggerer", "dag_processor"))
        yield airflow
    finally:
        airflow.stop_all()


def test_data_to_video_defers_survives_a_triggerer_restart_and_pays_once(
    deployment: AirflowDeployment, emulator: HeyGenEmulator, tmp_path: Path
) -> None:
    wait_until(
        lambda: bool(deployment.query("SELECT 1 FROM dag WHERE dag_id = ?", DAG_ID)),
        120,
        "the dag-processor to parse the example DAGs",
        deployment._diagnose,
    )
    deployment.cli("dags", "unpause", DAG_ID)
    output = tmp_path / "videos"
    deployment.cli("dags", "trigger", DAG_ID, "--conf", json.dumps({"output_uri": output.as_uri()}))

    def generate_states() -> list[str]:
        return [
            state
            for (state,) in deployment.query(
                "SELECT state FROM task_instance WHERE dag_id = ? AND task_id = 'generate_video'", DAG_ID
            )
        ]

    # Every render submitted and waiting in the triggerer, none of them done yet.
    wait_until(
        lambda: generate_states().count("deferred") == ROWS, 120, "all generate tasks deferred", deployment._diagnose
    )
    assert len(emulator.requests(method="POST", path="/v2/video/generate")) == ROWS
    assert deployment.query("SELECT count(*) FROM trigger")[0][0] == ROWS

    # The triggerer dies mid-render; a new one takes the triggers over from the database.
    deployment.kill("triggerer", signal.SIGKILL)
    deployment.start("triggerer")

    def run_state() -> str:
        rows = deployment.query("SELECT state FROM dag_run WHERE dag_id = ?", DAG_ID)
        return str(rows[0][0]) if rows else "none"

    wait_until(lambda: run_state() in ("success", "failed"), 240, "the DAG run to finish", deployment._diagnose)
    assert run_state() == "success", deployment._diagnose()

    posts = emulator.requests(method="POST", path="/v2/video/generate")
    assert len(posts) == ROWS, "exactly one POST per video, through the triggerer restart"
    assert len({post.video_id for post in posts}) == ROWS
    assert sorted(generate_states()) == ["success"] * ROWS
    [day] = list(output.iterdir())
    assert len(list(day.glob("*.mp4"))) == ROWS
    assert (day / "summary.html").exists()

    # The waiting happened in the triggerer: each generate task has trigger logs of its render.
    trigger_logs = [
        path
        for path in (deployment.home / "logs").rglob("*trigger*")
        if "task_id=generate_video" in str(path) and path.is_file()
    ]
    assert trigger_logs, "no trigger logs found for the generate tasks"
    logged = "\n".join(path.read_text(errors="replace") for path in trigger_logs)
    assert logged.count("is completed") >= ROWS
    assert os.environ.get("AIRFLOW_CONN_HEYGEN_DEFAULT") is None or True
