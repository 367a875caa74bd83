"""
A broken ``heygen`` connection is refused before any HTTP call, with a message naming the connection and
the rule, on every path: the sync hook, the trigger (an ``error`` event) and the operator in a DAG run.

The connection points at the emulator wherever a host is needed, so a request that slipped through would
show in its request log; every socket the process opens is recorded too.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from heygen_provider._compat import AirflowNotFoundException
from heygen_provider.exceptions import HeyGenConnectionError
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.testing.emulator import HeyGenEmulator
from tests.fixtures.triggers import run_status_trigger
from tests.reliability.conftest import SCENE, TaskErrors

pytestmark = pytest.mark.integration

CONN_ID = "heygen_default"
EMULATOR = "{emulator}"  # replaced by the emulator's base URL

#: name -> (connection fields, the rule the error must state)
BAD_CONNECTIONS: dict[str, tuple[dict[str, Any], str]] = {
    "no-key": ({"host": EMULATOR}, "the API key is missing"),
    "blank-key": ({"host": EMULATOR, "password": "   "}, "the API key is missing"),
    "http-to-a-remote-host": (
        {"host": "http://api.heygen.com", "password": "sk-x"},
        "uses http://, which would send the API key in clear text",
    ),
    "invalid-port": ({"host": "https://127.0.0.1:99999", "password": "sk-x"}, "has an invalid port"),
    "malformed-json-extra": ({"host": EMULATOR, "password": "sk-x", "extra": "{not json"}, "extra is not valid JSON"),
    "extra-not-an-object": ({"host": EMULATOR, "password": "sk-x", "extra": "[1, 2]"}, "extra must be a JSON object"),
    "unknown-extra": (
        {"host": EMULATOR, "password": "sk-x", "extra": {"timeout": 5}},
        "extra 'timeout' is not a known field (known: api_version, auth_type, create_timeout, request_timeout",
    ),
    "timeout-not-a-number": (
        {"host": EMULATOR, "password": "sk-x", "extra": {"request_timeout": "fast"}},
        "extra 'request_timeout' must be a number (got 'fast')",
    ),
    "timeout-out-of-range": (
        {"host": EMULATOR, "password": "sk-x", "extra": {"request_timeout": 0}},
        "extra 'request_timeout' must be between 1 and 600 (got 0)",
    ),
    "attempts-not-whole": (
        {"host": EMULATOR, "password": "sk-x", "extra": {"retry_attempts": 2.5}},
        "extra 'retry_attempts' must be a whole number (got 2.5)",
    ),
    "attempts-a-boolean": (
        {"host": EMULATOR, "password": "sk-x", "extra": {"retry_attempts": True}},
        "extra 'retry_attempts' must be a whole number (got True)",
    ),
    # A line break in a header value makes requests raise InvalidHeader, whose message echoes the key.
    "key-with-line-break": (
        {"host": EMULATOR, "password": "sk-x\r\nX-Injected: yes"},
        "the API key contains a line break or another control character",
    ),
    "key-with-control-character": (
        {"host": EMULATOR, "password": "sk-x\x00\x7fy"},
        "the API key contains a line break or another control character",
    ),
    "unknown-auth-type": (
        {"host": EMULATOR, "password": "sk-x", "extra": {"auth_type": "basic"}},
        "extra 'auth_type' must be one of api_key, bearer (got 'basic')",
    ),
}
CASES = pytest.mark.parametrize("name", list(BAD_CONNECTIONS))


@pytest.fixture
def sockets_opened(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every address this process connects a socket to (the emulator's admin API included)."""
    opened: list[Any] = []
    original = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        opened.append(address)
        return original(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return opened


@pytest.fixture
def bad_connection(emulator: HeyGenEmulator, monkeypatch: pytest.MonkeyPatch) -> Any:
    def define(name: str) -> str:
        fields, rule = BAD_CONNECTIONS[name]
        connection = {"conn_type": "heygen", **fields}
        if connection.get("host") == EMULATOR:
            connection["host"] = emulator.base_url
        if isinstance(connection.get("extra"), dict):
            connection["extra"] = json.dumps(connection["extra"])
        monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(connection))
        return rule

    return define


def assert_no_http(emulator: HeyGenEmulator, sockets_opened: list[Any]) -> None:
    assert emulator.requests() == [], "no request may reach HeyGen"
    emulator_address = ("127.0.0.1", emulator.port)
    assert [address for address in sockets_opened if address != emulator_address] == [], "no other socket opened"


#: Airflow 3.1 refuses these itself outside a task: its environment-variable backend raises "Encountered
#: non-JSON in `extra` field", which ``get_connection`` reports as the connection not being defined, so the
#: provider never sees them. Inside a task (and on 3.3) they reach the provider's own check.
REFUSED_BY_AIRFLOW_31 = frozenset({"malformed-json-extra", "extra-not-an-object"})


def assert_names_connection_and_rule(message: str, rule: str, name: str) -> None:
    assert "sk-x" not in message and "X-Injected" not in message, "the message never shows the key"
    if message == f"The conn_id `{CONN_ID}` isn't defined" and name in REFUSED_BY_AIRFLOW_31:
        return
    assert f"Connection '{CONN_ID}'" in message, message
    assert rule in message, message


@CASES
def test_sync_hook_refuses_before_any_call(
    name: str, bad_connection: Any, emulator: HeyGenEmulator, sockets_opened: list[Any]
) -> None:
    rule = bad_connection(name)
    refusals = (
        (HeyGenConnectionError, AirflowNotFoundException) if name in REFUSED_BY_AIRFLOW_31 else HeyGenConnectionError
    )
    with pytest.raises(refusals) as create_error:
        HeyGenHook().create_video({"video_inputs": [SCENE]})
    with pytest.raises(refusals) as status_error:
        HeyGenHook().get_video_status("any-video")
    assert_names_connection_and_rule(str(create_error.value), rule, name)
    assert str(status_error.value) == str(create_error.value)
    ok, message = HeyGenHook().test_connection()
    assert not ok
    assert_names_connection_and_rule(message, rule, name)
    assert_no_http(emulator, sockets_opened)


@CASES
def test_trigger_yields_an_error_event_before_any_call(
    name: str, bad_connection: Any, emulator: HeyGenEmulator, sockets_opened: list[Any]
) -> None:
    rule = bad_connection(name)

    event = run_status_trigger("any-video", end_in=60.0)

    assert event["status"] == "error", event
    assert_names_connection_and_rule(event["message"], rule, name)
    assert event["video_id"] == "any-video" and event["result"] is None
    assert_no_http(emulator, sockets_opened)


@pytest.mark.parametrize(
    "name", ["no-key", "http-to-a-remote-host", "malformed-json-extra", "timeout-not-a-number", "key-with-line-break"]
)
def test_operator_in_a_dag_fails_before_any_call(
    name: str, bad_connection: Any, emulator: HeyGenEmulator, run_dag: Any, task_errors: TaskErrors
) -> None:
    rule = bad_connection(name)

    dag_run = run_dag("rel_generate")

    assert str(dag_run.state) == "failed"
    assert isinstance(task_errors.last, HeyGenConnectionError)
    assert_names_connection_and_rule(str(task_errors.last), rule, "in a task")
    assert emulator.requests() == []
