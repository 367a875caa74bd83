"""The heygen-emulator command line, run as a real subprocess."""

from __future__ import annotations

import json
import os
import selectors
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from heygen_provider.testing.emulator.cli import build_parser, settings_from_arguments

CLI = [sys.executable, "-m", "heygen_provider.testing.emulator.cli"]


def read_lines(process: subprocess.Popen[bytes], count: int, timeout: float = 15.0) -> list[str]:
    """The first ``count`` lines the process prints, without blocking past ``timeout``."""
    assert process.stdout is not None
    # Raw reads: a buffered reader would swallow lines the selector then never reports.
    descriptor = process.stdout.fileno()
    received = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(descriptor, selectors.EVENT_READ)
        while received.count(b"\n") < count and time.monotonic() < deadline:
            if selector.select(timeout=0.1):
                chunk = os.read(descriptor, 4096)
                if not chunk:
                    break
                received += chunk
    return received.decode().splitlines()[:count]


@pytest.fixture
def cli_process() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [*CLI, "--port", "0", "--render-seconds", "0", "--plan", "free"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_cli_prints_the_url_and_a_connection_that_works(cli_process: subprocess.Popen[bytes]) -> None:
    lines = read_lines(cli_process, 4)
    assert lines[0].startswith("HeyGen emulator listening on http://127.0.0.1:")
    base_url = lines[0].rsplit(" ", 1)[1]
    export = next(line for line in lines if line.startswith("export "))
    name, _, value = shlex.split(export)[1].partition("=")
    assert name == "AIRFLOW_CONN_HEYGEN_DEFAULT"
    connection = json.loads(value)
    assert connection == {"conn_type": "heygen", "host": base_url, "password": "heygen-emulator-key"}

    with httpx.Client(base_url=connection["host"], trust_env=False) as client:
        answer = client.get("/v1/user/me", headers={"X-Api-Key": connection["password"]})
        assert answer.status_code == 200 and answer.json()["data"]["plan"] == "free"

    cli_process.terminate()
    assert cli_process.wait(10) == 0  # SIGTERM is a clean stop


def test_cli_refuses_non_loopback_addresses() -> None:
    finished = subprocess.run(
        [*CLI, "--host", "0.0.0.0", "--port", "0"], check=False, capture_output=True, text=True, timeout=30
    )
    assert finished.returncode == 2
    assert "not a loopback address" in finished.stderr
    assert "listening" not in finished.stdout


def test_cli_refuses_bad_settings() -> None:
    finished = subprocess.run(
        [*CLI, "--port", "0", "--video-size", "huge"], check=False, capture_output=True, text=True, timeout=30
    )
    assert finished.returncode == 2
    assert "not a size" in finished.stderr


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "heygen-emulator"
    if not script.exists():
        pytest.skip("the package is not installed in this environment")
    finished = subprocess.run([str(script), "--help"], check=False, capture_output=True, text=True, timeout=30)
    assert finished.returncode == 0
    for option in ("--render-seconds", "--realistic", "--plan", "--allow-non-loopback"):
        assert option in finished.stdout


@pytest.mark.parametrize("blocked", [None, "av", "PIL"])
def test_cli_says_when_videos_cannot_be_drawn(blocked: str | None) -> None:
    # A module set to None in sys.modules fails to import, as if the emulator extra were not installed.
    start = f"import sys; sys.modules[{blocked!r}] = None; " if blocked else "import sys; "
    code = start + "from heygen_provider.testing.emulator.cli import main; sys.exit(main())"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert len(read_lines(process, 5)) == 5
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
    note = [line for line in errors.decode().splitlines() if "airflow-provider-heygen[emulator]" in line]
    if blocked is None:
        assert note == []
    else:
        assert len(note) == 1 and f"{blocked} is not installed" in note[0] and "2-second sample" in note[0]


def test_cli_options_set_the_render_slots() -> None:
    arguments = build_parser().parse_args(["--concurrent-renders", "4", "--slot-retry-after-seconds", "5"])
    settings = settings_from_arguments(arguments)
    assert (settings.limits.concurrent_renders, settings.slot_retry_after_seconds) == (4, 5)
    default = settings_from_arguments(build_parser().parse_args([]))
    assert (default.plan, default.limits.concurrent_renders) == ("pay_as_you_go", 10)
