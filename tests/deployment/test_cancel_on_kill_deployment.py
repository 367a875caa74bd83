"""
``cancel_on_kill`` in a real Airflow deployment (api-server, scheduler, dag-processor, triggerer,
LocalExecutor) against the emulator: a deferred render whose task a person marks failed through the REST
API is deleted at HeyGen (the emulator sees ``DELETE /v3/videos/{id}``); a render whose triggerer is
stopped and started again is not, and finishes.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from heygen_provider.testing.emulator import EmulatorSettings, HeyGenEmulator
from tests.deployment.airflow_deployment import AirflowDeployment, running_deployment, wait_until

pytestmark = pytest.mark.deployment

DAG_ID = "heygen_cancel_on_kill"
DAGS = Path(__file__).parent / "kill_dags"
#: Long enough that the render is still in progress when the test acts on it, even on a busy machine.
RENDER_SECONDS = 60.0
API_KEY = "sk-CANCEL-ON-KILL-5c1d7e"


@pytest.fixture(scope="module")
def emulator() -> Iterator[HeyGenEmulator]:
    settings = EmulatorSettings(render_seconds=RENDER_SECONDS, api_keys=(API_KEY,))
    with HeyGenEmulator(settings, in_subprocess=True) as running:
        yield running


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, emulator: HeyGenEmulator) -> Iterator[AirflowDeployment]:
    home = tmp_path_factory.mktemp("cancel-on-kill") / "airflow-home"
    home.mkdir()
    env = {
        **emulator.airflow_connection().env(),
        # The trigger's first question to Airflow makes the triggerer build its in-process API, which
        # took 30 to 40 s on this busy machine: more than the default 30 s Airflow 3.3 allows on_kill.
        "AIRFLOW__TRIGGERER__ON_KILL_TIMEOUT": "180",
    }
    with running_deployment(home, DAGS, env) as airflow:
        wait_until(
            lambda: bool(airflow.query("SELECT 1 FROM dag WHERE dag_id = :dag_id", dag_id=DAG_ID)),
            120,
            "the dag-processor to parse the DAG",
            airflow.diagnose,
        )
        airflow.cli("dags", "unpause", DAG_ID)
        yield airflow


def deferred_render(deployment: AirflowDeployment, emulator: HeyGenEmulator) -> tuple[str, str]:
    """Trigger a run and wait until its render waits in the triggerer; its run id and video id."""
    known_videos = {post.video_id for post in emulator.requests(method="POST", path="/v3/videos")}
    known = {run_id for (run_id,) in deployment.query("SELECT run_id FROM dag_run WHERE dag_id = :d", d=DAG_ID)}
    deployment.cli("dags", "trigger", DAG_ID)
    runs: list[str] = []

    def new_run() -> bool:
        rows = deployment.query("SELECT run_id FROM dag_run WHERE dag_id = :d", d=DAG_ID)
        runs[:] = [run_id for (run_id,) in rows if run_id not in known]
        return bool(runs)

    wait_until(new_run, 60, "the new DAG run", deployment.diagnose)
    (run_id,) = runs
    wait_until(lambda: task_state(deployment, run_id) == "deferred", 180, "the render deferred", deployment.diagnose)
    video_ids = [post.video_id for post in emulator.requests(method="POST", path="/v3/videos")]
    video_id = video_ids[-1]
    assert video_id and video_id not in known_videos
    # The trigger runs in the triggerer and has polled: what a kill or a restart then interrupts.
    wait_until(
        lambda: f"HeyGen video {video_id} is processing" in trigger_log(deployment, run_id),
        120,
        "the trigger to poll the render in the triggerer",
        deployment.diagnose,
    )
    assert video_status(emulator, video_id) != "completed", "the render must still be in progress"
    return run_id, video_id


def trigger_log(deployment: AirflowDeployment, run_id: str) -> str:
    """What the render's triggers logged in this run (Airflow writes them beside the task's log)."""
    folder = deployment.home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}" / "task_id=render"
    return "".join(path.read_text(errors="replace") for path in folder.glob("*trigger*") if path.is_file())


def task_state(deployment: AirflowDeployment, run_id: str) -> str | None:
    rows = deployment.query(
        "SELECT state FROM task_instance WHERE dag_id = :d AND run_id = :r AND task_id = 'render'", d=DAG_ID, r=run_id
    )
    return str(rows[0][0]) if rows and rows[0][0] is not None else None


def video_status(emulator: HeyGenEmulator, video_id: str) -> str | None:
    return next((str(job["status"]) for job in emulator.videos() if job["video_id"] == video_id), None)


def deletes(emulator: HeyGenEmulator, video_id: str) -> int:
    return len(emulator.requests(method="DELETE", video_id=video_id))


def test_marking_the_deferred_render_failed_deletes_the_video(
    deployment: AirflowDeployment, emulator: HeyGenEmulator
) -> None:
    run_id, video_id = deferred_render(deployment, emulator)

    deployment.rest(
        "PATCH",
        f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances/render",
        {"new_state": "failed"},
    )

    wait_until(lambda: deletes(emulator, video_id) > 0, 90, "the emulator to see the DELETE", deployment.diagnose)
    (delete,) = emulator.requests(method="DELETE", video_id=video_id)
    assert delete.path == f"/v3/videos/{video_id}"
    assert video_status(emulator, video_id) is None, "the emulator no longer has the video"
    assert task_state(deployment, run_id) == "failed"
    assert f"HeyGen video {video_id} deleted (cancel_on_kill)" in trigger_log(deployment, run_id)
    assert len(emulator.requests(method="POST", path="/v3/videos")) >= 1


def test_a_triggerer_restart_deletes_nothing_and_the_render_finishes(
    deployment: AirflowDeployment, emulator: HeyGenEmulator
) -> None:
    run_id, video_id = deferred_render(deployment, emulator)

    # A graceful stop: the triggerer cancels every trigger it runs, while the task stays deferred.
    deployment.kill("triggerer", signal.SIGTERM)
    deployment.start("triggerer")

    wait_until(
        lambda: task_state(deployment, run_id) in ("success", "failed"),
        RENDER_SECONDS + 180,
        "the render to finish after the restart",
        deployment.diagnose,
    )
    assert task_state(deployment, run_id) == "success", deployment.diagnose()
    assert deletes(emulator, video_id) == 0
    assert "deleted (cancel_on_kill)" not in trigger_log(deployment, run_id)
    assert video_status(emulator, video_id) == "completed"
    assert len(emulator.requests(method="POST", path="/v3/videos", video_id=video_id)) == 1
