"""
A real Airflow deployment on this machine, for tests: api-server, scheduler, dag-processor and triggerer
as separate processes, LocalExecutor, SQLite, a throwaway AIRFLOW_HOME.

Every process is started in its own process group and stopped by PID, whatever happens.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
PR_SET_PDEATHSIG = 1
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class AirflowDeployment:
    """
    :param home: the throwaway AIRFLOW_HOME.
    :param dags_folder: the folder the dag-processor parses.
    :param extra_env: more environment, e.g. the HeyGen connection.
    """

    def __init__(self, home: Path, dags_folder: Path, extra_env: Mapping[str, str]) -> None:
        self.home = home
        self.port = free_port()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {
            **{key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")},
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # The default of 32 forks 32 idle workers on a 2-core machine.
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API_AUTH__JWT_SECRET": "heygen-deployment-test-secret",
            "AIRFLOW__API__SECRET_KEY": "heygen-deployment-test-secret",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            **extra_env,
        }
        self.airflow = str(Path(sys.executable).parent / "airflow")

    def cli(self, *arguments: str, timeout: float = 120) -> str:
        """Run an ``airflow`` CLI command against this deployment and return its output."""
        done = subprocess.run(
            [self.airflow, *arguments],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(arguments)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self, component: str) -> subprocess.Popen[bytes]:
        log = (self.home / f"{component}.log").open("ab")
        process = subprocess.Popen(
            [self.airflow, component],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Only setsid() and prctl() run there: nothing that could deadlock on a lock held by a thread.
            preexec_fn=_own_group_dying_with_parent,  # noqa: PLW1509
        )
        self.processes[component] = process
        return process

    def kill(self, component: str, sig: int = signal.SIGKILL) -> None:
        """Stop one component by PID (its whole process group: it forks workers)."""
        process = self.processes.pop(component)
        _signal_group(process, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=10)

    def stop_all(self) -> None:
        for component in list(self.processes):
            self.kill(component, signal.SIGTERM)

    def health(self) -> dict[str, Any]:
        with _NO_PROXY.open(f"http://127.0.0.1:{self.port}/api/v2/monitor/health", timeout=5) as answer:
            return json.loads(answer.read())  # type: ignore[no-any-return]

    def wait_healthy(self, components: tuple[str, ...], timeout: float = 120) -> None:
        def healthy() -> bool:
            try:
                status = self.health()
            except OSError:
                return False
            return all(status.get(name, {}).get("status") == "healthy" for name in components)

        wait_until(healthy, timeout, f"{components} healthy", self.diagnose)

    def query(self, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
        """Read the metadata database (SQLite) directly."""
        with closing(sqlite3.connect(self.home / "airflow.db", timeout=30)) as database:
            return database.execute(sql, parameters).fetchall()

    def diagnose(self) -> str:
        lines = []
        for log in sorted(self.home.glob("*.log")):
            lines.append(f"--- {log.name} (last lines)")
            lines.extend(log.read_text(errors="replace").splitlines()[-25:])
        return "\n".join(lines)


def wait_until(condition: Callable[[], bool], timeout: float, what: str, diagnose: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{diagnose()}")


def _own_group_dying_with_parent() -> None:
    """
    Run in the child before ``exec``: its own process group, so ``kill`` reaches the workers it forks,
    and SIGTERM when the test process dies, even by SIGKILL, when no ``finally`` can run.
    """
    os.setsid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
