"""Starting the emulator from Python (thread and subprocess) and the Airflow connection it hands out."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time

import httpx
import pytest

from heygen_provider.testing.emulator import (
    EmulatorAdminError,
    EmulatorClient,
    EmulatorSettings,
    HeyGenEmulator,
)

from .helpers import GENERATE, video_body


def test_subprocess_emulator_is_controlled_through_the_admin_api() -> None:
    settings = EmulatorSettings(plan="free", render_seconds=120, api_keys=("subprocess-key",))
    with HeyGenEmulator(settings, in_subprocess=True) as emulator:
        assert emulator.app is None  # nothing shared in memory: everything goes over HTTP
        assert emulator.base_url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=emulator.base_url, trust_env=False) as client:
            answer = client.post(GENERATE, json=video_body(), headers={"X-Api-Key": "subprocess-key"})
        assert answer.status_code == 200
        video_id = answer.json()["data"]["video_id"]
        # A separate client, as a test would use against an emulator started elsewhere.
        remote = EmulatorClient(emulator.base_url)
        [post] = remote.requests(method="POST")
        assert post.video_id == video_id
        assert remote.videos()[0]["status"] == "processing"
        assert remote.current_settings()["plan"] == "free"
        base_url = emulator.base_url
    with pytest.raises(EmulatorAdminError):
        EmulatorClient(base_url, timeout=1).health()


def test_a_subprocess_emulator_stops_when_its_parent_is_killed() -> None:
    # The parent starts an emulator, prints its pid and waits to be SIGKILLed, which runs no clean-up.
    parent_code = (
        "import sys, time\n"
        "from heygen_provider.testing.emulator import HeyGenEmulator\n"
        "emulator = HeyGenEmulator(in_subprocess=True).start()\n"
        "print(emulator.pid, emulator.base_url, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pid_text, base_url = parent.stdout.readline().split()
    emulator_pid = int(pid_text)
    try:
        assert httpx.get(f"{base_url}/_emulator/health", timeout=5).status_code == 200
        parent.kill()
        parent.wait()
        # A liveness bound, not a speed goal: without the fix the emulator never exits.
        deadline = time.monotonic() + 20
        while _is_alive(emulator_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _is_alive(emulator_pid), "the emulator outlived its SIGKILLed parent"
    finally:
        parent.kill()
        if _is_alive(emulator_pid):
            os.kill(emulator_pid, signal.SIGKILL)


def _is_alive(pid: int) -> bool:
    try:
        # Reaped by init once orphaned; a zombie still answers kill(0), so read its state too.
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_emulators_pick_distinct_free_ports() -> None:
    with HeyGenEmulator() as first, HeyGenEmulator() as second:
        assert first.port != second.port
        assert first.health()["base_url"] == first.base_url


def test_a_stopped_emulator_can_start_again_fresh() -> None:
    emulator = HeyGenEmulator()
    with emulator:
        emulator.add_fault("drop")
    with emulator:
        assert emulator.faults() == []


def test_non_loopback_hosts_are_refused() -> None:
    with pytest.raises(ValueError, match="not a loopback address"):
        HeyGenEmulator(host="0.0.0.0")


def test_connection_forms(heygen_emulator: HeyGenEmulator) -> None:
    connection = heygen_emulator.airflow_connection(extra={"request_timeout": 5})
    expected = {
        "conn_type": "heygen",
        "host": heygen_emulator.base_url,
        "password": "heygen-emulator-key",
        "extra": {"request_timeout": 5},
    }
    assert connection.as_dict() == expected
    [(name, value)] = connection.env().items()
    assert name == "AIRFLOW_CONN_HEYGEN_DEFAULT"
    assert json.loads(value) == expected
    exported = shlex.split(connection.export_line())
    assert exported[0] == "export"
    assert exported[1] == f"{name}={value}"


def test_airflow_reads_every_connection_form(heygen_emulator: HeyGenEmulator) -> None:
    from airflow.sdk import Connection

    heygen_emulator.update_settings(bearer_tokens=["oauth-token"])
    for connection in (
        heygen_emulator.airflow_connection(),
        heygen_emulator.airflow_connection("heygen_oauth", auth_type="bearer", extra={"retry_attempts": 2}),
    ):
        for parsed in (
            Connection.from_json(connection.to_json(), conn_id=connection.conn_id),
            Connection.from_uri(connection.uri(), conn_id=connection.conn_id),
        ):
            assert parsed.conn_type == "heygen"
            assert parsed.host == heygen_emulator.base_url
            assert parsed.password == connection.password
            assert parsed.extra_dejson == connection.extra
    assert connection.extra == {"retry_attempts": 2, "auth_type": "bearer"}


def test_bearer_connection_needs_a_configured_token(heygen_emulator: HeyGenEmulator) -> None:
    with pytest.raises(ValueError, match="no bearer token"):
        heygen_emulator.airflow_connection(auth_type="bearer")
    with pytest.raises(RuntimeError, match="start the emulator"):
        HeyGenEmulator().airflow_connection()
