"""
``make airflow-ui``: a local Airflow UI with the provider, the example DAGs and the HeyGen emulator, in
one command.

It starts the emulator (no key, no credits) and Airflow's api-server, scheduler, dag-processor and
triggerer from this virtual environment, with ``AIRFLOW_HOME`` in ``.airflow-ui/`` (ignored by git), the
DAG folder on ``example_dags/`` and the ``heygen_default`` connection pointed at the emulator. Videos are
stored in ``.airflow-ui/videos/``. Everything listens on 127.0.0.1 only. It prints the URL and the login,
and Ctrl-C (or SIGTERM) stops every process it started.

The processes are started and stopped by the same code as the deployment tests
(``tests/deployment/airflow_deployment.py``): each in its own process group, each told by the kernel
to stop if this script dies.
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import socket
import sys
import threading
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from types import FrameType
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]
#: Ignored by git (.gitignore): the metadata database, the logs, the login and the stored videos.
DEFAULT_HOME = REPOSITORY / ".airflow-ui"
DEFAULT_PORT = 8080
USERNAME = "admin"
#: The emulator renders a video in this many seconds; the provider checks it this often.
RENDER_SECONDS = 10.0
POLL_INTERVAL_SECONDS = 2
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
#: The scheduler and the triggerer would each start a log server on every interface; the api-server
#: reads the logs from AIRFLOW_HOME on this machine instead.
COMMANDS: Mapping[str, tuple[str, ...]] = {
    "api-server": ("api-server",),
    "scheduler": ("scheduler", "--skip-serve-logs"),
    "dag-processor": ("dag-processor",),
    "triggerer": ("triggerer", "--skip-serve-logs"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help="AIRFLOW_HOME (default .airflow-ui/)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="the UI's port on 127.0.0.1 (another one if taken)"
    )
    parser.add_argument("--render-seconds", type=float, default=RENDER_SECONDS, help="emulated render time")
    arguments = parser.parse_args(argv)

    # The deployment code lives with the tests; this script runs from a clone of the repository.
    sys.path.insert(0, str(REPOSITORY))
    from heygen_provider.testing.emulator import EmulatorSettings, HeyGenEmulator
    from tests.deployment.airflow_deployment import AirflowDeployment

    home = arguments.home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, _stop_on(stop))

    emulator = HeyGenEmulator(EmulatorSettings(render_seconds=arguments.render_seconds), in_subprocess=True)
    airflow: AirflowDeployment | None = None
    try:
        emulator.start()
        say(f"Started the HeyGen emulator at {emulator.base_url} (no key, no credits).")
        password = login_password(home)
        port = arguments.port if port_is_free(arguments.port) else None
        airflow = AirflowDeployment(
            home,
            REPOSITORY / "example_dags",
            ui_environment(home),
            config=ui_config(home),
            port=port,
            login=(USERNAME, password),
        )
        if port is None:
            say(f"Port {arguments.port} is taken: using {airflow.port}.")
        say(f"Preparing Airflow's metadata database in {home} ...")
        connection = emulator.airflow_connection()
        try:
            airflow.cli("db", "migrate", timeout=600)
            airflow.cli("connections", "import", "--overwrite", str(write_connection(home, connection)))
        except RuntimeError:
            if stop.is_set():  # Ctrl-C reached the CLI too
                return 130
            raise
        if stop.is_set():  # a SIGTERM to this process alone: the CLI ran to its end
            return 130
        say(f"Wrote the {connection.conn_id} connection (the emulator) to the metadata database.")
        for name in COMPONENTS:
            airflow.start(name, *COMMANDS[name])
        say("Starting Airflow (api-server, scheduler, dag-processor, triggerer) ...")
        if not wait_healthy(airflow, stop):
            return 130 if stop.is_set() else 1
        say("")
        say(f"Airflow is ready: http://127.0.0.1:{airflow.port}/")
        say(f"Log in as user {USERNAME!r} with password {password!r}.")
        say("The example DAGs are paused: trigger one (e.g. heygen_data_to_video); renders go to the emulator,")
        say(f"videos to {home / 'videos'}. Logs: {home}/*.log. Press Ctrl-C to stop everything.")
        while not stop.wait(1.0):
            exited = [name for name, process in airflow.processes.items() if process.poll() is not None]
            if exited:
                say(f"Stopping: {', '.join(exited)} exited.\n{airflow.diagnose()}")
                return 1
        return 0
    finally:
        say("Stopping Airflow and the emulator ...")
        if airflow is not None:
            airflow.stop_all()
        emulator.stop()
        say("Stopped.")


def write_connection(home: Path, connection: Any) -> Path:
    """
    The emulator's connection as a file for ``airflow connections import``: in the metadata database it
    shows in the UI's connection list (an ``AIRFLOW_CONN_*`` variable would not), and
    ``airflow connections test`` finds it from another shell.

    :param home: the AIRFLOW_HOME.
    :param connection: the emulator's :class:`~heygen_provider.testing.emulator.connection.AirflowConnection`.
    """
    path = home / "connections.json"
    path.write_text(json.dumps({connection.conn_id: connection.as_dict()}, indent=2) + "\n")
    path.chmod(0o600)
    return path


def ui_environment(home: Path) -> dict[str, str]:
    """
    What the example DAGs read: a short poll interval for the emulator's quick renders and a local
    folder for the videos; and this virtual environment first on ``PATH``, as Airflow starts some of
    its own processes by name.

    :param home: the AIRFLOW_HOME.
    """
    import os

    videos = home / "videos"
    videos.mkdir(parents=True, exist_ok=True)
    return {
        "HEYGEN_POLL_INTERVAL": str(POLL_INTERVAL_SECONDS),
        "HEYGEN_OUTPUT_URI": videos.as_uri(),
        "PATH": os.pathsep.join(filter(None, (str(Path(sys.executable).parent), os.environ.get("PATH")))),
    }


def ui_config(home: Path) -> dict[str, str]:
    """
    Airflow settings: a login (the simple auth manager, one admin user), the connection Test button
    enabled, and secrets of this home's own.

    :param home: the AIRFLOW_HOME.
    """
    secret = _home_secret(home)
    return {
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__API_AUTH__JWT_SECRET": secret,
        "AIRFLOW__API__SECRET_KEY": secret,
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    }


def login_password(home: Path) -> str:
    """
    The admin's password: written once to ``passwords.json`` in the home (where the simple auth manager
    reads it), then the same at every start.

    :param home: the AIRFLOW_HOME.
    """
    path = home / "passwords.json"
    try:
        passwords = json.loads(path.read_text())
    except (OSError, ValueError):
        passwords = {}
    if not isinstance(passwords, dict) or not passwords.get(USERNAME):
        passwords = {USERNAME: secrets.token_urlsafe(12)}
        path.write_text(json.dumps(passwords) + "\n")
        path.chmod(0o600)
    return str(passwords[USERNAME])


def _home_secret(home: Path) -> str:
    path = home / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def port_is_free(port: int) -> bool:
    """Whether 127.0.0.1:``port`` can be bound now."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_healthy(airflow: Any, stop: threading.Event, timeout: float = 300) -> bool:
    """Wait until every component reports healthy; ``False`` on Ctrl-C, a component's exit or the timeout."""
    import time

    deadline = time.monotonic() + timeout
    while not stop.wait(1.0):
        exited = [name for name, process in airflow.processes.items() if process.poll() is not None]
        if exited:
            say(f"Airflow did not start: {', '.join(exited)} exited.\n{airflow.diagnose()}")
            return False
        try:
            status = airflow.health()
        except OSError:
            status = {}
        if all(
            status.get(name, {}).get("status") == "healthy"
            for name in ("metadatabase", "scheduler", "triggerer", "dag_processor")
        ):
            return True
        if time.monotonic() > deadline:
            say(f"Airflow did not become healthy in {timeout:.0f} s.\n{airflow.diagnose()}")
            return False
    return False


def _stop_on(stop: threading.Event) -> Any:
    def handler(signal_number: int, frame: FrameType | None) -> None:
        stop.set()

    return handler


def say(message: str) -> None:
    print(message, flush=True)


if __name__ == "__main__":
    sys.exit(main())
