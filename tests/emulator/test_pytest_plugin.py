"""The opt-in pytest plugin, used exactly as users enable it, in a separate pytest run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from heygen_provider.testing.emulator import AirflowConnection, HeyGenEmulator

USER_TESTS = """
import json
import os

import httpx
import pytest

pytest_plugins = ["heygen_provider.testing.pytest_plugin"]

BODY = {"video_inputs": [{"character": {"type": "avatar", "avatar_id": "a"},
                          "voice": {"type": "text", "voice_id": "v", "input_text": "Hi"}}]}


def test_first_creates_a_video_and_a_fault(heygen_emulator, heygen_connection):
    conn = json.loads(os.environ["AIRFLOW_CONN_HEYGEN_DEFAULT"])
    assert conn["host"] == heygen_emulator.base_url
    answer = httpx.post(conn["host"] + "/v2/video/generate", json=BODY,
                        headers={"X-Api-Key": conn["password"]}, trust_env=False)
    assert answer.status_code == 200
    heygen_emulator.add_fault("drop")
    heygen_emulator.update_settings(plan="free")


def test_second_starts_clean(heygen_emulator):
    assert heygen_emulator.requests() == []
    assert heygen_emulator.faults() == []
    assert heygen_emulator.videos() == []
    assert heygen_emulator.current_settings()["plan"] == "pay_as_you_go"
    assert "AIRFLOW_CONN_HEYGEN_DEFAULT" not in os.environ
"""


def test_plugin_in_a_users_test_suite(tmp_path: Path) -> None:
    (tmp_path / "test_user_dag.py").write_text(USER_TESTS)
    environment = {key: value for key, value in os.environ.items() if key != "AIRFLOW_CONN_HEYGEN_DEFAULT"}
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=environment,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "2 passed" in finished.stdout


def test_connection_fixture_sets_the_environment(
    heygen_connection: AirflowConnection, heygen_emulator: HeyGenEmulator
) -> None:
    assert os.environ["AIRFLOW_CONN_HEYGEN_DEFAULT"] == heygen_connection.to_json()
    assert heygen_connection.host == heygen_emulator.base_url
    answer = httpx.get(
        heygen_connection.host + "/v2/user/remaining_quota",
        headers={"X-Api-Key": heygen_connection.password},
        trust_env=False,
    )
    assert answer.status_code == 200
