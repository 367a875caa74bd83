"""
``make airflow-ui`` (``example_dags/_airflow_ui.py``) as a user runs it: it starts, prints the URL and the
login, answers health, lists the example DAGs, tests the emulator's connection (REST API and CLI), runs
``heygen_data_to_video`` to success when triggered once through the REST API, listens on loopback only,
and leaves no process behind after Ctrl-C.
"""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.conftest import EXAMPLE_DAGS
from tests.deployment.airflow_deployment import AirflowDeployment
from tests.deployment.processes import free_port, spawn, wait_until

pytestmark = pytest.mark.deployment

SCRIPT = EXAMPLE_DAGS / "_airflow_ui.py"
DAG_ID = "heygen_data_to_video"
ROWS = 4


def test_airflow_ui_starts_runs_an_example_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    home = tmp_path / "airflow-ui"
    port = free_port()
    printed = tmp_path / "airflow-ui.out"
    # As from a user's shell: no Airflow settings of the test session's own.
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    command = [sys.executable, str(SCRIPT), "--home", str(home), "--port", str(port), "--render-seconds", "5"]
    ui = spawn(command, printed, env=env)
    started: list[psutil.Process] = []
    try:

        def ready() -> bool:
            assert ui.poll() is None, f"the command exited ({ui.returncode}):\n{printed.read_text()}"
            return "Airflow is ready" in printed.read_text()

        wait_until(ready, 600, "the UI to be ready", printed.read_text)
        output = printed.read_text()
        assert f"http://127.0.0.1:{port}/" in output
        [(user, password)] = re.findall(r"Log in as user '(\w+)' with password '([^']+)'", output)
        airflow = AirflowDeployment(home, EXAMPLE_DAGS, {}, port=port, login=(user, password))
        health = airflow.health()
        assert {health[name]["status"] for name in ("metadatabase", "scheduler", "triggerer", "dag_processor")} == {
            "healthy"
        }
        started = [psutil.Process(ui.pid), *psutil.Process(ui.pid).children(recursive=True)]
        listening = [connection.laddr for process in started for connection in _listening(process)]
        assert len(listening) >= 2, "the api-server and the emulator listen"
        assert all(ipaddress.ip_address(address.ip).is_loopback for address in listening), listening

        # The connection test, as the docs show it: the REST API with the stored connection, the REST API
        # with port 0 and the key typed again (what the edit form sends), and the CLI.
        emulator_url = re.search(r"HeyGen emulator at (http://\S+) ", output).group(1)  # type: ignore[union-attr]
        for body in (
            {"connection_id": "heygen_default", "conn_type": "heygen"},
            {
                "connection_id": "heygen_default",
                "conn_type": "heygen",
                "host": emulator_url,
                "port": 0,
                "password": "heygen-emulator-key",
            },
        ):
            tested = airflow.rest("POST", "/api/v2/connections/test", body)
            assert tested["status"] is True, tested
            assert re.fullmatch(r"Connected to HeyGen \(v3\): [\d,]+\.\d\d USD of credit remaining", tested["message"])
        cli = subprocess.run(
            [str(Path(sys.executable).parent / "airflow"), "connections", "test", "heygen_default"],
            env={**env, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__TEST_CONNECTION": "Enabled"},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert cli.returncode == 0 and "Connection success!" in cli.stdout, cli.stdout + cli.stderr

        # One click: unpause and trigger, as the UI's Trigger button does; one run, to success.
        airflow.wait_for_dag(DAG_ID, 180)
        airflow.rest("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
        run = airflow.rest("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": {}})
        runs = f"/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}"

        def ended() -> bool:
            try:
                return airflow.rest("GET", runs)["state"] in ("success", "failed")
            except OSError:  # an api-server slow to answer on a busy machine: ask again
                return False

        wait_until(ended, 600, "the run", airflow.diagnose)
        assert airflow.rest("GET", runs)["state"] == "success", airflow.diagnose()
        assert airflow.rest("GET", f"/api/v2/dags/{DAG_ID}/dagRuns")["total_entries"] == 1, "one click, one run"
        assert len(list((home / "videos").rglob("*.mp4"))) == ROWS, "stored in HEYGEN_OUTPUT_URI"
        started = [psutil.Process(ui.pid), *psutil.Process(ui.pid).children(recursive=True)]
    finally:
        # Ctrl-C in a terminal signals the command's whole process group.
        with_group = ui.poll() is None
        if with_group:
            os.killpg(ui.pid, signal.SIGINT)
        try:
            ui.wait(timeout=120)
        finally:
            left = [process for process in started if _alive(process)]
            for process in left:
                process.kill()
    assert ui.returncode == 0, printed.read_text()
    assert "Stopped." in printed.read_text()
    assert not left, f"processes left after Ctrl-C: {[process.pid for process in left]}"


def _listening(process: psutil.Process) -> list[Any]:
    try:
        return [connection for connection in process.net_connections(kind="inet") if connection.status == "LISTEN"]
    except psutil.Error:
        return []


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
