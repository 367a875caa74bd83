"""
The distributed Airflow users run at scale, started by the test itself: CeleryExecutor on Redis,
PostgreSQL, two Celery workers and two triggerers, against the emulator in its own process.

The drill SIGKILLs a worker while a create is in flight and the busiest triggerer while every render is
running. On v3 (the default) every row still renders exactly once; on the legacy API the same drill
pays twice for some rows, which the test records without failing: in ``bench/results/test-runs/``
(ignored by git), or with ``HEYGEN_DRILL_RESULTS=bench/results/deployment-drill.json`` in the file
docs/deployment.rst quotes. The example data-to-video DAG then runs end to end here.

Without PostgreSQL and Redis (``make servers`` installs them) these tests skip, or fail under CI=true.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from heygen_provider.testing.emulator import EmulatorClient, EmulatorSettings, airflow_connection
from tests.conftest import EXAMPLE_DAGS
from tests.deployment.airflow_deployment import link_dags
from tests.deployment.dags import heygen_drill
from tests.deployment.distributed import DistributedDeployment
from tests.deployment.drill import Drill, results_path
from tests.deployment.processes import free_port, spawn, stop, wait_until
from tests.deployment.servers import PostgresServer, RedisServer, missing_servers

pytestmark = pytest.mark.deployment

DRILL_DAGS = Path(__file__).resolve().parent / "dags"
RESULTS = results_path(os.environ)
EXAMPLE_DAG_ID = "heygen_data_to_video"
#: Recognisable, so a leak into any log file of the deployment would be found.
API_KEY = "sk-DISTRIBUTED-LEAKCHECK-5d2e8b"
GIB = 1024**3


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[PostgresServer, RedisServer]]:
    reason = missing_servers()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the distributed deployment cannot run: {reason}")
        pytest.skip(reason)
    postgres, redis = PostgresServer(), RedisServer()
    try:
        postgres.start()
        redis.start()
        yield postgres, redis
    finally:
        redis.stop()
        postgres.stop()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorClient]:
    """The emulator in a process of its own that dies with the test process."""
    port = free_port()
    settings = EmulatorSettings(api_keys=(API_KEY,), plan="enterprise")
    process = spawn(
        [
            sys.executable,
            "-m",
            "heygen_provider.testing.emulator.cli",
            "--port",
            str(port),
            "--settings-json",
            json.dumps(settings.to_dict()),
        ],
        # Outside AIRFLOW_HOME: its banner prints the key, and the leak check reads every file there.
        tmp_path_factory.mktemp("emulator") / "emulator.log",
    )
    client = EmulatorClient(f"http://127.0.0.1:{port}", timeout=60)
    try:
        client.wait_until_ready(30)
        yield client
    finally:
        stop(process)


@pytest.fixture(scope="module")
def distributed(
    servers: tuple[PostgresServer, RedisServer], emulator: EmulatorClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DistributedDeployment]:
    root = tmp_path_factory.mktemp("distributed")
    home = root / "airflow-home"
    home.mkdir()
    env = {
        **airflow_connection(emulator.base_url, API_KEY).env(),
        **airflow_connection(
            emulator.base_url, API_KEY, heygen_drill.CONNECTIONS["legacy"], api_version="legacy"
        ).env(),
        "HEYGEN_POLL_INTERVAL": "2",
        "HEYGEN_OUTPUT_URI": (root / "videos").as_uri(),
        # Only the runs the tests trigger: unpausing the weekly example must not add a scheduled run.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "HEYGEN_DRILL_VIDEOS": str(heygen_drill.VIDEOS),
    }
    deployment = DistributedDeployment(home, link_dags(root / "dags", EXAMPLE_DAGS, DRILL_DAGS), env, *servers)
    try:
        deployment.start_all()
        record(
            "deployment",
            {
                "migrate_seconds": round(deployment.startup.migrate_seconds, 1),
                "ready_seconds": round(deployment.startup.ready_seconds, 1),
                "airflow_memory_gib_ready": round(deployment.startup.memory_bytes_ready / GIB, 2),
                "postgres_redis_memory_gib_ready": round(deployment.startup.server_memory_bytes / GIB, 2),
            },
        )
        yield deployment
    finally:
        deployment.stop_all()


@pytest.fixture
def say(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    def show(message: str) -> None:
        with capsys.disabled():
            print(f"\n[distributed] {message}", flush=True)

    return show


@pytest.fixture
def rng(say: Callable[[str], None]) -> random.Random:
    seed = int(os.environ.get("HEYGEN_DRILL_SEED", str(time.time_ns() % 1_000_000)))
    say(f"drill seed {seed} (HEYGEN_DRILL_SEED={seed} repeats the random choices)")
    return random.Random(seed)


def test_v3_drill_renders_every_row_once_through_blind_worker_and_triggerer_kills(
    distributed: DistributedDeployment, emulator: EmulatorClient, rng: random.Random, say: Callable[[str], None]
) -> None:
    figures = Drill(distributed, emulator, "v3", rng, say).run()
    record("v3", figures)
    say(f"v3 drill: {figures}")

    assert figures["task_states"] == {"success": figures["videos"]}, distributed.diagnose()
    # The worker kill cost some tasks a try, and they were retried elsewhere.
    assert max(figures["tries"]) >= 2, figures["tries"]
    # The killed worker had creates in flight: their retries sent the same Idempotency-Key again and
    # HeyGen answered with the video it had made, instead of rendering a second one.
    assert figures["idempotent_replays"] >= 1, figures
    assert figures["rows_with_a_video"] == figures["videos"]
    assert figures["videos_per_row"] == {1: figures["videos"]}, "a row was rendered twice on v3"
    assert_no_key_leak(distributed)


def test_legacy_drill_records_the_rows_it_pays_twice(
    distributed: DistributedDeployment, emulator: EmulatorClient, rng: random.Random, say: Callable[[str], None]
) -> None:
    figures = Drill(distributed, emulator, "legacy", rng, say).run()
    record("legacy", figures)
    say(f"legacy drill: {figures['rows_paid_twice']} of {figures['videos']} rows paid twice; {figures}")

    # Legacy creates carry no idempotency key: a create whose answer died with its worker is paid again
    # by the retry. That is recorded, not failed on: it is why v3 is the default.
    assert figures["task_states"] == {"success": figures["videos"]}, distributed.diagnose()
    assert max(figures["tries"]) >= 2, figures["tries"]
    assert figures["rows_with_a_video"] == figures["videos"]
    assert figures["idempotent_replays"] == 0


def test_example_data_to_video_dag_end_to_end(
    distributed: DistributedDeployment, emulator: EmulatorClient, tmp_path: Path, say: Callable[[str], None]
) -> None:
    distributed.restart_stopped()
    emulator.reset()
    emulator.update_settings(plan="enterprise", render_seconds=5)
    output = tmp_path / "videos"
    began = time.monotonic()
    wait_until(
        lambda: bool(distributed.query("SELECT 1 FROM dag WHERE dag_id = :dag_id", dag_id=EXAMPLE_DAG_ID)),
        180,
        f"the dag-processor to parse {EXAMPLE_DAG_ID}",
        distributed.diagnose,
    )
    distributed.cli("dags", "unpause", EXAMPLE_DAG_ID)
    distributed.cli("dags", "trigger", EXAMPLE_DAG_ID, "--conf", json.dumps({"output_uri": output.as_uri()}))

    def run_states() -> list[str]:
        rows = distributed.query("SELECT state FROM dag_run WHERE dag_id = :dag_id", dag_id=EXAMPLE_DAG_ID)
        return sorted(str(state) for (state,) in rows)

    wait_until(
        lambda: run_states() in (["success"], ["failed"]),
        600,
        f"the {EXAMPLE_DAG_ID} run to finish",
        distributed.diagnose,
    )
    seconds = time.monotonic() - began
    assert run_states() == ["success"], distributed.diagnose()

    # Observable results only: every rendered video stored, and a summary page linking each one.
    stored = sorted(output.rglob("*.mp4"))
    rendered = [video for video in emulator.videos() if video["status"] == "completed"]
    assert stored, "the run stored no video"
    assert len(stored) == len(rendered) == len(emulator.videos())
    summaries = sorted(output.rglob("summary.html"))
    assert len(summaries) == 1, summaries
    page = summaries[0].read_text()
    assert all(video.name in page for video in stored), f"{summaries[0]} does not link every stored video"
    record("example_dag", {"videos": len(stored), "seconds": round(seconds, 1)})
    say(f"{EXAMPLE_DAG_ID}: {len(stored)} videos stored and summarised in {seconds:.0f} s")
    assert_no_key_leak(distributed)


def assert_no_key_leak(deployment: DistributedDeployment) -> None:
    written = [path for path in deployment.home.rglob("*") if path.is_file()]
    leaks = [str(path) for path in written if API_KEY.encode() in path.read_bytes()]
    assert not leaks, f"the API key leaked into {leaks}"


def record(section: str, figures: dict[str, Any]) -> None:
    """Keep this run's figures in the results file docs/deployment.rst quotes."""
    results: dict[str, Any] = {}
    if RESULTS.is_file():
        try:
            results = json.loads(RESULTS.read_text())
        except ValueError:
            results = {}
    results[section] = figures
    results["machine"] = {"cpus": os.cpu_count(), "videos_per_drill": heygen_drill.VIDEOS}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
