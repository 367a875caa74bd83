"""
Shared set-up of the operator, trigger, sensor and submission-record unit tests.

The async status path is served by :class:`StatusServer`, a real ``aiohttp.web`` server on 127.0.0.1
running in its own thread (aioresponses 0.7.9 cannot build responses for aiohttp 3.14). The sync path
(the worker's hook) is mocked with requests-mock.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.unit.conftest import API_KEY, BASE_URL, connection_json

__all__ = ["API_KEY", "BASE_URL", "connection_json"]  # re-exported for the operator, sensor and trigger tests

CREATE_PATH = "/v2/video/generate"
STATUS_PATH = "/v1/video_status.get"
CONN_ENV = "AIRFLOW_CONN_HEYGEN_DEFAULT"


def scene(text: str = "Hello from Airflow.") -> dict[str, Any]:
    return {
        "character": {"type": "avatar", "avatar_id": "avatar-1"},
        "voice": {"type": "text", "input_text": text, "voice_id": "voice-1"},
    }


def status_data(video_id: str = "vid-1", status: str = "processing", **fields: Any) -> dict[str, Any]:
    """The ``data`` of a legacy status answer; media fields are filled in for ``completed``."""
    data: dict[str, Any] = {"id": video_id, "status": status, "error": None}
    if status == "completed":
        data.update(
            video_url=f"https://files.heygen.ai/{video_id}.mp4",
            thumbnail_url=f"https://files.heygen.ai/{video_id}.jpg",
            gif_url=f"https://files.heygen.ai/{video_id}.gif",
            caption_url=f"https://files.heygen.ai/{video_id}.srt",
            duration=12.5,
            callback_id="cb-7",
        )
    data.update(fields)
    return data


def status_body(video_id: str = "vid-1", status: str = "processing", **fields: Any) -> dict[str, Any]:
    return {"code": 100, "data": status_data(video_id, status, **fields), "message": "Success"}


#: (status, HeyGen code, message) of every event that is not a success.
UNSUCCESSFUL_EVENTS = [
    ("failed", 40119, "Video is too long"),
    ("cancelled", None, "HeyGen status 'cancelled'"),
    ("timeout", None, "the render did not finish before its render timeout"),
    ("error", 400112, "Unauthorized"),
]


def event(status: str, code: Any = None, message: str = "m", video_id: str = "vid-1") -> dict[str, Any]:
    """A trigger event payload; even unsuccessful ones carry a result dict, as HeyGen's status gives one."""
    result = {"video_id": video_id, "status": status, "video_url": f"https://files.heygen.ai/{video_id}.mp4"}
    return {"status": status, "video_id": video_id, "code": code, "message": message, "result": result}


def created_body(video_id: str = "vid-1") -> dict[str, Any]:
    return {"error": None, "data": {"video_id": video_id}}


# -- fakes of the task's context ----------------------------------------------------------------------


@dataclass
class FakeTI:
    """Just what the operator reads from ``context["ti"]``; records XCom pushes."""

    dag_id: str = "heygen_dag"
    task_id: str = "render"
    run_id: str = "manual__2026-01-01T00:00:00+00:00"
    map_index: int = -1
    try_number: int = 1
    start_date: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    pushed: list[tuple[str, Any]] = field(default_factory=list)

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed.append((key, value))


class FakeStateStore:
    """The task state store's get/set, JSON round-tripped like the real one."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return json.loads(self.data[key]) if key in self.data else default

    def set(self, key: str, value: Any, *, retention: Any = None) -> None:
        if value is None:
            raise ValueError("Cannot set value as None")
        self.data[key] = json.dumps(value)

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


class StateStoreTries:
    """Successive tries of one task instance sharing one task state store (Airflow 3.3's record)."""

    def __init__(self) -> None:
        self.store = FakeStateStore()
        self.count = 0

    def context(self) -> dict[str, Any]:
        self.count += 1
        return {"ti": FakeTI(try_number=self.count), "task_state_store": self.store}


class FakeVariables:
    """An in-memory stand-in for ``airflow.sdk.Variable`` get/set/delete (values stored as text)."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.deleted: list[str] = []

    def get(self, key: str, default: Any = None, deserialize_json: bool = False) -> Any:
        if key not in self.data:
            return default
        return json.loads(self.data[key]) if deserialize_json else self.data[key]

    def set(self, key: str, value: Any, description: str | None = None, serialize_json: bool = False) -> None:
        self.data[key] = json.dumps(value) if serialize_json else str(value)

    def delete(self, key: str) -> None:
        self.deleted.append(key)
        self.data.pop(key, None)


@pytest.fixture
def fake_variables(monkeypatch: pytest.MonkeyPatch) -> FakeVariables:
    from airflow.sdk import Variable

    store = FakeVariables()
    for name in ("get", "set", "delete"):
        monkeypatch.setattr(Variable, name, getattr(store, name))
    return store


# -- connection and fast retries --------------------------------------------------------------------


@pytest.fixture
def heygen_conn(monkeypatch: pytest.MonkeyPatch) -> None:
    """``heygen_default`` at HeyGen's real base URL (intercepted by requests-mock), and millisecond back-off."""
    monkeypatch.setenv(CONN_ENV, connection_json())
    fast_retries(monkeypatch)


def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hook's retry policy with millisecond delays, so transient faults cost no time."""
    from heygen_provider.retry import RetryPolicy

    monkeypatch.setattr(
        "heygen_provider.connection.RetryPolicy",
        functools.partial(RetryPolicy, initial_delay=0.001, max_delay=0.002, max_retry_after=0.005),
    )


# -- a real HeyGen status endpoint on loopback ------------------------------------------------------

#: Script entries besides ``(http_status, json_body[, headers])``.
RESET = "reset"  # the server drops the connection without answering
HANG = "hang"  # the server never answers (until the test ends)


class StatusServer:
    """
    Serves ``GET /v1/video_status.get`` from a per-video script; the script's last entry repeats.

    Each entry is ``(http_status, body)``, ``(http_status, body, headers)``, :data:`RESET` or :data:`HANG`.
    """

    def __init__(self) -> None:
        self.scripts: dict[str, list[Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._serve, name="heygen-status-server", daemon=True)

    def script(self, video_id: str, *entries: Any) -> None:
        self.scripts[video_id] = list(entries)

    def statuses(self, video_id: str, *statuses: str) -> None:
        """Answer ``video_id``'s polls with these status values in turn."""
        self.script(video_id, *((200, status_body(video_id, status)) for status in statuses))

    def polls(self, video_id: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.requests if video_id is None or r["video_id"] == video_id]

    def reset(self) -> None:
        self.scripts.clear()
        self.requests.clear()

    async def _handle(self, request: Any) -> Any:
        from aiohttp import web

        video_id = request.query.get("video_id", "")
        self.requests.append(
            {
                "video_id": video_id,
                "headers": dict(request.headers),
                "peer": request.transport.get_extra_info("peername"),
            }
        )
        script = self.scripts.get(video_id) or [(404, {"code": 404, "message": "unknown video"})]
        entry = script.pop(0) if len(script) > 1 else script[0]
        if entry == RESET:
            request.transport.abort()
            raise asyncio.CancelledError
        if entry == HANG:
            assert self._stop is not None
            await self._stop.wait()
            return web.Response(status=503)
        status, body, *rest = entry
        return web.json_response(body, status=status, headers=rest[0] if rest else None)

    def _serve(self) -> None:
        from aiohttp import web

        async def main() -> None:
            self._stop = asyncio.Event()
            app = web.Application()
            app.router.add_get(STATUS_PATH, self._handle)
            runner = web.AppRunner(app, shutdown_timeout=0.1, handler_cancellation=True, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            self.url = f"http://127.0.0.1:{port}"
            self._loop = asyncio.get_running_loop()
            self._ready.set()
            await self._stop.wait()
            await runner.cleanup()

        asyncio.run(main())

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the loopback status server did not start")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)


@pytest.fixture(scope="module")
def _status_server_process() -> Iterator[StatusServer]:
    server = StatusServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def status_server(_status_server_process: StatusServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[StatusServer]:
    """The loopback status server, its script cleared, with ``heygen_default`` pointing at it."""
    _status_server_process.reset()
    monkeypatch.setenv(CONN_ENV, connection_json(host=_status_server_process.url))
    fast_retries(monkeypatch)
    yield _status_server_process
    _status_server_process.reset()


class ImmediateRandom:
    """Replaces ``random`` of the trigger and the poller: the spread-out first wait becomes zero."""

    @staticmethod
    def uniform(low: float, high: float) -> float:
        return low


@pytest.fixture
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("heygen_provider.triggers.heygen.random", ImmediateRandom)
    monkeypatch.setattr("heygen_provider.triggers.status_poller.random", ImmediateRandom)


def run_trigger_to_events(trigger: Any) -> list[Any]:
    """Every event ``trigger.run()`` yields, on a fresh event loop (its wait closes the loop's state)."""

    async def collect() -> list[Any]:
        return [event async for event in trigger.run()]

    return asyncio.run(collect())


def assert_no_key(*things: Any) -> None:
    for thing in things:
        assert API_KEY not in (thing if isinstance(thing, str) else repr(thing))
