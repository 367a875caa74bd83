"""Fixtures shared by the unit tests: HeyGen connections from env vars, recorded sleeps, request builders."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

#: A key distinctive enough that finding it in a message, a repr or a log line is never a coincidence.
API_KEY = "hg-test-key-7f3a9c1e5b"
BASE_URL = "https://api.heygen.com"


def text_scene(**overrides: dict[str, Any]) -> dict[str, Any]:
    """
    One valid scene (an avatar speaking a text), with ``character``/``voice`` keys updated from overrides
    and any other key (``background``, ``extra_fields``) set as given.
    """
    scene: dict[str, Any] = {
        "character": {"type": "avatar", "avatar_id": "avatar-1"},
        "voice": {"type": "text", "input_text": "Hello from Airflow.", "voice_id": "voice-1"},
    }
    for key, value in overrides.items():
        if key in ("character", "voice"):
            scene[key] = {**scene[key], **value}
        else:
            scene[key] = value
    return scene


def connection_json(
    *, host: str | None = BASE_URL, password: str | None = API_KEY, port: int | None = None, **extra: Any
) -> str:
    """
    A ``heygen`` connection in Airflow's JSON env-var form.

    The unit tests mock HeyGen's paths by API generation; without ``api_version`` the connection is a
    ``legacy`` one, and ``api_version=None`` leaves the key out (the provider's default, v3).
    """
    extra.setdefault("api_version", "legacy")
    extra = {name: value for name, value in extra.items() if value is not None}
    connection: dict[str, Any] = {"conn_type": "heygen", "host": host, "password": password}
    if port is not None:
        connection["port"] = port
    if extra:
        connection["extra"] = extra
    return json.dumps(connection)


@pytest.fixture
def define_connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """
    Define a ``heygen`` connection through ``AIRFLOW_CONN_<ID>``; returns the connection id.

    Usage: ``define_connection(host="http://127.0.0.1:8000", retry_attempts=2, conn_id="other")``.
    """

    def define(conn_id: str = "heygen_default", **fields: Any) -> str:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", connection_json(**fields))
        return conn_id

    return define


@pytest.fixture
def recorded_sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Replace ``time.sleep`` with a recorder, so back-off is asserted without waiting."""
    delays: list[float] = []
    monkeypatch.setattr("time.sleep", delays.append)
    yield delays


@pytest.fixture
def blocking_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """
    Record every blocking call made on this thread (where the test runs its event loop): ``time.sleep``,
    a synchronous HTTP request or connection lookup, and I/O on a socket that is not non-blocking.

    asyncio's own sockets are non-blocking, so the loop's I/O passes; the calls still go through, so the
    code under test behaves as it would, and the test asserts the list is empty. Deterministic, unlike
    timing the loop's steps.
    """
    import socket
    import threading

    import requests

    from heygen_provider.hooks.heygen import HeyGenHook

    loop_thread = threading.get_ident()
    calls: list[str] = []

    def guarded(name: str, original: Any, *, socket_io: bool = False) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            on_loop = threading.get_ident() == loop_thread
            if on_loop and (not socket_io or args[0].gettimeout() != 0.0):
                calls.append(name)
            return original(*args, **kwargs)

        return call

    monkeypatch.setattr("time.sleep", guarded("time.sleep", time.sleep))
    monkeypatch.setattr(requests.Session, "request", guarded("requests.Session.request", requests.Session.request))
    # A classmethod: the bound original is called without the instance.
    lookup = staticmethod(guarded("HeyGenHook.get_connection", HeyGenHook.get_connection))
    monkeypatch.setattr(HeyGenHook, "get_connection", lookup)
    for method in ("connect", "recv", "recv_into", "send", "sendall", "accept"):
        original = getattr(socket.socket, method)
        monkeypatch.setattr(socket.socket, method, guarded(f"socket.{method}", original, socket_io=True))
    yield calls
