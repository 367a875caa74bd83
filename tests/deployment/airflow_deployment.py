"""
A real Airflow deployment on this machine, for tests: every component a separate process (api-server,
scheduler, dag-processor, triggerers, Celery workers), any executor, any metadata database, a
throwaway AIRFLOW_HOME.

Components are named, so that two triggerers or two workers can run side by side and be killed one at
a time. Every process is started in its own process group and stopped by PID, whatever happens.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlalchemy

from tests.deployment.component_hostname import CALLABLE_PATH, COMPONENT_VARIABLE
from tests.deployment.processes import free_port, last_lines, memory_bytes, signal_group, spawn, stop, wait_until

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
REPOSITORY = Path(__file__).resolve().parents[2]
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class AirflowDeployment:
    """
    :param home: the throwaway AIRFLOW_HOME.
    :param dags_folder: the folder the dag-processor parses.
    :param extra_env: more environment, e.g. the HeyGen connection.
    :param executor: ``LocalExecutor`` or ``CeleryExecutor`` (then ``config`` names the broker).
    :param database_url: the metadata database's SQLAlchemy URL; SQLite in ``home`` by default.
    :param config: more Airflow settings, as ``AIRFLOW__SECTION__KEY`` variables.
    :param port: the api-server's port on 127.0.0.1; a free one by default.
    :param login: the user and password :meth:`rest` logs in with (``POST /auth/token``), when the
        simple auth manager does not make every user an admin.
    """

    def __init__(
        self,
        home: Path,
        dags_folder: Path,
        extra_env: Mapping[str, str],
        *,
        executor: str = "LocalExecutor",
        database_url: str | None = None,
        config: Mapping[str, str] | None = None,
        port: int | None = None,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.home = home
        self.port = port or free_port()
        self.login = login
        self.database_url = database_url or f"sqlite:///{home / 'airflow.db'}"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.commands: dict[str, tuple[str, ...]] = {}
        self.log_starts: dict[str, int] = {}
        self.env = {
            **{key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")},
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": executor,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database_url,
            # The default of 32 forks 32 idle workers on a 2-core machine.
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            # Each process names itself after its component (see component_hostname).
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": CALLABLE_PATH,
            "PYTHONPATH": os.pathsep.join(filter(None, (str(REPOSITORY), os.environ.get("PYTHONPATH")))),
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API_AUTH__JWT_SECRET": "heygen-deployment-test-secret",
            "AIRFLOW__API__SECRET_KEY": "heygen-deployment-test-secret",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            # Free ports, not 8793/8794: two deployments on one machine (a test and make screenshots,
            # or two sessions) would otherwise fight over the log servers.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            **(config or {}),
            **extra_env,
        }
        self.airflow = str(Path(sys.executable).parent / "airflow")
        self._engine: sqlalchemy.engine.Engine | None = None
        self._token: str | None = None

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

    def start(self, name: str, *arguments: str) -> subprocess.Popen[bytes]:
        """
        Start the component ``name``: ``airflow ARGUMENTS``, or ``airflow NAME`` without arguments
        (``start("worker-1", "celery", "worker", ...)``, ``start("scheduler")``).
        """
        command = arguments or (name,)
        log = self.home / f"{name}.log"
        self.log_starts[name] = log.stat().st_size if log.exists() else 0
        process = spawn([self.airflow, *command], log, env={**self.env, COMPONENT_VARIABLE: name})
        self.processes[name], self.commands[name] = process, command
        return process

    def restart(self, name: str) -> subprocess.Popen[bytes]:
        """Start a stopped component again, with the command it had."""
        if name in self.processes:
            self.kill(name, signal.SIGTERM)
        return self.start(name, *self.commands[name])

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Stop one component by PID (its whole process group: it forks workers)."""
        stop(self.processes.pop(name), sig)

    def stop_all(self) -> None:
        """SIGTERM to every component at once (one by one, the last ones wait on the dead), then wait."""
        for process in self.processes.values():
            signal_group(process, signal.SIGTERM)
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM)
        if self._engine is not None:
            self._engine.dispose()

    def memory_bytes(self) -> int:
        """Resident memory of every running component and what it forked."""
        return memory_bytes(list(self.processes.values()))

    def health(self) -> dict[str, Any]:
        with _NO_PROXY.open(f"http://127.0.0.1:{self.port}/api/v2/monitor/health", timeout=5) as answer:
            return json.loads(answer.read())  # type: ignore[no-any-return]

    def rest(self, method: str, path: str, body: Any = None) -> Any:
        """
        Call the api-server's REST API (``/api/v2/...``) as a user would, with a bearer token; the
        answer's JSON. The simple auth manager here makes every user an admin (``GET /auth/token``).
        """
        if self._token is None:
            url = f"http://127.0.0.1:{self.port}/auth/token"
            login = None
            if self.login is not None:
                credentials = {"username": self.login[0], "password": self.login[1]}
                login = urllib.request.Request(
                    url, data=json.dumps(credentials).encode(), headers={"Content-Type": "application/json"}
                )
            with _NO_PROXY.open(login or url, timeout=10) as answer:
                self._token = str(json.loads(answer.read())["access_token"])
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"},
        )
        try:
            with _NO_PROXY.open(request, timeout=30) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            raise AssertionError(
                f"{method} {path}: HTTP {error.code} {error.read().decode(errors='replace')}"
            ) from error

    def wait_healthy(self, components: tuple[str, ...], timeout: float = 120) -> None:
        def healthy() -> bool:
            self.assert_running()
            try:
                status = self.health()
            except OSError:
                return False
            return all(status.get(name, {}).get("status") == "healthy" for name in components)

        wait_until(healthy, timeout, f"{components} healthy", self.diagnose)

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> None:
        """Wait until the dag-processor has parsed ``dag_id`` into the metadata database."""
        wait_until(
            lambda: bool(self.query("SELECT 1 FROM dag WHERE dag_id = :dag_id", dag_id=dag_id)),
            timeout,
            f"the dag-processor to parse {dag_id}",
            self.diagnose,
        )

    def assert_running(self) -> None:
        """Fail at once, with the logs, when a component has exited (rather than at a timeout)."""
        exited = {name: process.returncode for name, process in self.processes.items() if process.poll() is not None}
        assert not exited, f"components exited: {exited}\n{self.diagnose()}"

    def query(self, sql: str, **parameters: Any) -> list[tuple[Any, ...]]:
        """Read the metadata database directly (``:name`` placeholders)."""
        if self._engine is None:
            self._engine = sqlalchemy.create_engine(self.database_url, poolclass=sqlalchemy.pool.NullPool)
        with self._engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sqlalchemy.text(sql), parameters)]

    def log_since_start(self, name: str) -> str:
        """What the component wrote since it was last started."""
        with (self.home / f"{name}.log").open("rb") as log:
            log.seek(self.log_starts.get(name, 0))
            return log.read().decode(errors="replace")

    def diagnose(self) -> str:
        return last_lines(sorted(self.home.glob("*.log")))


@contextmanager
def running_deployment(home: Path, dags_folder: Path, extra_env: Mapping[str, str]) -> Iterator[AirflowDeployment]:
    """
    A migrated LocalExecutor deployment with every component of :data:`COMPONENTS` started and
    healthy; stopped on exit, whatever happened.
    """
    airflow = AirflowDeployment(home, dags_folder, extra_env)
    try:
        airflow.cli("db", "migrate", timeout=300)
        for component in COMPONENTS:
            airflow.start(component)
        airflow.wait_healthy(("metadatabase", "scheduler", "triggerer", "dag_processor"))
        yield airflow
    finally:
        airflow.stop_all()


def link_dags(folder: Path, *sources: Path) -> Path:
    """A dags folder made of links to every DAG file and data folder in ``sources`` (``_*`` left out)."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in sources:
        for entry in source.iterdir():
            if not entry.name.startswith(("_", ".")):
                with suppress(FileExistsError):
                    (folder / entry.name).symlink_to(entry)
    return folder
