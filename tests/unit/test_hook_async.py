"""
HeyGenHook's async path (the triggerer's) against a real aiohttp server on 127.0.0.1.

The server is real so that the shared session, its connection pool and the retries run for real.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from heygen_provider.exceptions import (
    HeyGenAPIError,
    HeyGenAuthenticationError,
    HeyGenConnectionError,
    HeyGenServerError,
    HeyGenTransportError,
)
from heygen_provider.hooks import cache
from heygen_provider.hooks.cache import shared_session
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.models import VideoStatus, VideoStatusResponse
from heygen_provider.retry import RetryPolicy, RetryState
from heygen_provider.triggers.loop_state import TriggererLoopState
from tests.fixtures.answers import v3_video_body
from tests.fixtures.connections import API_KEY
from tests.fixtures.loopback import start_status_server

#: Retry at once: these tests count retries, they do not wait for them.
NO_WAIT = RetryPolicy(attempts=3, initial_delay=0.0, random_fraction=lambda: 0.0)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    client_port: int


@dataclass
class FakeHeyGen:
    """A loopback HeyGen: answers from ``script`` first, then a ``processing`` status."""

    base_url: str = ""
    seen: list[Seen] = field(default_factory=list)
    script: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)
    answer_delay: float = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.seen.append(
            Seen(request.method, request.path, dict(request.query), dict(request.headers), peer[1] if peer else 0)
        )
        if self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        if self.script:
            status, body, headers = self.script.pop(0)
            text = body if isinstance(body, str) else json.dumps(body)
            return web.Response(status=status, text=text, headers=headers, content_type="application/json")
        video_id = request.query.get("video_id") or request.match_info.get("video_id", "?")
        return web.json_response(v3_video_body(video_id))


@pytest.fixture
async def heygen_server(triggerer_loop_state: TriggererLoopState) -> AsyncIterator[FakeHeyGen]:
    fake = FakeHeyGen()
    runner, fake.base_url = await start_status_server(fake.handle)
    yield fake
    await runner.cleanup()


@pytest.fixture
def conn_id(define_connection: Callable[..., str], heygen_server: FakeHeyGen) -> str:
    """``heygen_default`` pointing at the loopback server."""
    return define_connection(host=heygen_server.base_url)


@pytest.fixture
def sync_path_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Anything that would block the event loop fails the test: sync lookups, requests, time.sleep."""

    def blocking(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("blocking call on the async path")

    monkeypatch.setattr(HeyGenHook, "get_connection", blocking)
    monkeypatch.setattr("requests.Session.request", blocking)
    monkeypatch.setattr("time.sleep", blocking)


@pytest.fixture
def counted_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count the hook's async connection lookups (each still returns the real env-var connection)."""
    real = HeyGenHook.aget_connection
    lookups: list[str] = []

    async def counting(conn_id: str) -> Any:
        lookups.append(conn_id)
        await asyncio.sleep(0)  # let concurrent callers pile up behind this lookup
        return await real(conn_id)

    monkeypatch.setattr(HeyGenHook, "aget_connection", staticmethod(counting))
    return lookups


@pytest.fixture
def recorded_verdicts(monkeypatch: pytest.MonkeyPatch) -> list[float | None]:
    """The retry delays the policy chose, in order."""
    real = RetryState.delay_after
    delays: list[float | None] = []

    def recording(self: RetryState, *args: Any) -> Any:
        delay = real(self, *args)
        delays.append(delay)
        return delay

    monkeypatch.setattr(RetryState, "delay_after", recording)
    return delays


class TestStatus:
    @pytest.mark.usefixtures("sync_path_forbidden")
    async def test_returns_the_typed_model(self, conn_id: str, heygen_server: FakeHeyGen) -> None:
        heygen_server.script.append((200, v3_video_body("v-1", "completed"), {}))
        status = await HeyGenHook(conn_id).aget_video_status("v-1")
        assert isinstance(status, VideoStatusResponse)
        assert (status.video_id, status.status) == ("v-1", VideoStatus.SUCCESS)
        (request,) = heygen_server.seen
        assert (request.method, request.path, request.query) == ("GET", "/v3/videos/v-1", {})
        assert request.headers["X-Api-Key"] == API_KEY
        assert request.headers["User-Agent"].startswith("airflow-provider-heygen/")

    async def test_bearer_auth(self, define_connection: Callable[..., str], heygen_server: FakeHeyGen) -> None:
        conn = define_connection(host=heygen_server.base_url, auth_type="bearer")
        await HeyGenHook(conn).aget_video_status("v-1")
        assert heygen_server.seen[0].headers["Authorization"] == f"Bearer {API_KEY}"
        assert "X-Api-Key" not in heygen_server.seen[0].headers

    async def test_v3_style_path(self, define_connection: Callable[..., str], heygen_server: FakeHeyGen) -> None:
        heygen_server.script.append((200, {"data": {"id": "v-3", "status": "not_found"}}, {}))
        conn_id = define_connection(host=heygen_server.base_url, video_status_path="/v3/videos/{video_id}")
        hook = HeyGenHook(conn_id)
        status = await hook.aget_video_status("v-3")
        assert status.status is VideoStatus.FAILED
        assert (heygen_server.seen[0].path, heygen_server.seen[0].query) == ("/v3/videos/v-3", {})

    async def test_errors_never_carry_the_key(self, conn_id: str, heygen_server: FakeHeyGen) -> None:
        heygen_server.script.append((401, {"code": 400112, "message": f"Unauthorized: {API_KEY}"}, {}))
        with pytest.raises(HeyGenAuthenticationError) as caught:
            await HeyGenHook(conn_id, retry_policy=NO_WAIT).aget_video_status("v-1")
        assert API_KEY not in str(caught.value)
        assert len(heygen_server.seen) == 1

    async def test_invalid_connection_is_refused_before_any_request(
        self, define_connection: Callable[..., str], heygen_server: FakeHeyGen
    ) -> None:
        conn = define_connection(host="http://api.heygen.com")
        with pytest.raises(HeyGenConnectionError, match="uses http://"):
            await HeyGenHook(conn).aget_video_status("v-1")
        assert heygen_server.seen == []


class TestRetries:
    async def test_503_then_429_then_success(
        self, conn_id: str, heygen_server: FakeHeyGen, recorded_verdicts: list[float | None]
    ) -> None:
        heygen_server.script += [
            (503, "<html><title>busy</title></html>", {}),
            (429, {"error": {"code": "rate_limited", "message": "slow"}}, {"Retry-After": "30"}),
        ]
        policy = RetryPolicy(attempts=3, initial_delay=0.0, max_retry_after=0.01, random_fraction=lambda: 0.0)
        status = await HeyGenHook(conn_id, retry_policy=policy).aget_video_status("v-1")
        assert status.status is VideoStatus.PROCESSING
        assert len(heygen_server.seen) == 3
        assert recorded_verdicts == [0.0, 0.01]  # back-off, then Retry-After capped; the third answer succeeds

    async def test_attempts_run_out(self, conn_id: str, heygen_server: FakeHeyGen) -> None:
        heygen_server.script += [(503, {"error": {"code": "down", "message": "down"}}, {})] * 5
        with pytest.raises(HeyGenServerError) as caught:
            await HeyGenHook(conn_id, retry_policy=NO_WAIT).aget_video_status("v-1")
        assert caught.value.http_status == 503
        assert len(heygen_server.seen) == 3

    async def test_refused_connection_is_retried_then_reported(
        self, define_connection: Callable[..., str], heygen_server: FakeHeyGen
    ) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        conn = define_connection(host=f"http://127.0.0.1:{closed_port}")
        with pytest.raises(HeyGenTransportError, match=r"after 3 attempt\(s\)") as caught:
            await HeyGenHook(conn, retry_policy=NO_WAIT).aget_video_status("v-1")
        assert caught.value.request_may_have_reached_server is False


class TestSharedSession:
    async def test_one_session_per_loop_and_connection(self) -> None:
        headers = {"User-Agent": "test"}
        async with TriggererLoopState.of_running_loop() as state:
            first = shared_session("heygen_default", headers)
            assert shared_session("heygen_default", headers) is first
            assert shared_session("heygen_other", headers) is not first
            assert state.sessions == {"heygen_default": first, "heygen_other": state.sessions["heygen_other"]}
        assert first.closed and state.sessions == {}
        async with TriggererLoopState.of_running_loop() as again:
            assert again is state, "one state per loop, for the loop's whole life"
            assert shared_session("heygen_default", headers) is not first

    @pytest.mark.usefixtures("sync_path_forbidden")
    async def test_many_hooks_share_one_session_and_its_pool(
        self,
        conn_id: str,
        heygen_server: FakeHeyGen,
        counted_lookups: list[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        sessions: list[aiohttp.ClientSession] = []
        real_session = aiohttp.ClientSession

        def counting_session(*args: Any, **kwargs: Any) -> aiohttp.ClientSession:
            sessions.append(real_session(*args, **kwargs))
            return sessions[-1]

        monkeypatch.setattr(aiohttp, "ClientSession", counting_session)
        monkeypatch.setattr(cache, "CONNECTION_LIMIT", 4)
        heygen_server.answer_delay = 0.005  # keep requests in flight together

        hooks = [HeyGenHook(conn_id) for _ in range(100)]
        results = await asyncio.gather(*(hook.aget_video_status(f"v-{n}") for n, hook in enumerate(hooks)))

        assert [result.video_id for result in results] == [f"v-{n}" for n in range(100)]
        assert len(sessions) == 1
        assert len(counted_lookups) == 1
        assert len(heygen_server.seen) == 100
        assert len({request.client_port for request in heygen_server.seen}) <= 4

    async def test_concurrent_callers_share_one_connection_lookup(
        self, conn_id: str, counted_lookups: list[str]
    ) -> None:
        await asyncio.gather(*(HeyGenHook(conn_id).aget_settings() for _ in range(50)))
        assert counted_lookups == [conn_id]

    async def test_settings_are_looked_up_again_after_the_ttl(
        self, conn_id: str, counted_lookups: list[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(cache, "SETTINGS_TTL", -1.0)  # every entry is already stale
        hook = HeyGenHook(conn_id)
        await hook.aget_settings()
        await hook.aget_settings()
        assert counted_lookups == [conn_id, conn_id]

    async def test_a_failed_lookup_is_not_cached(
        self, conn_id: str, define_connection: Callable[..., str], heygen_server: FakeHeyGen
    ) -> None:
        define_connection(host=heygen_server.base_url, password="")
        with pytest.raises(HeyGenConnectionError, match="API key is missing"):
            await HeyGenHook(conn_id).aget_settings()
        define_connection(host=heygen_server.base_url)  # the user fixes the connection
        assert (await HeyGenHook(conn_id).aget_settings()).api_key == API_KEY


class TestKeyStaysHome:
    async def test_a_redirect_is_not_followed_by_the_triggers_path(
        self, conn_id: str, heygen_server: FakeHeyGen
    ) -> None:
        # The redirect names the same loopback server on another path: following it would be seen.
        heygen_server.script.append((307, {}, {"Location": f"{heygen_server.base_url}/elsewhere"}))
        with pytest.raises(HeyGenAPIError, match="redirects are not followed"):
            await HeyGenHook(conn_id, retry_policy=NO_WAIT).aget_video_status("v-1")
        assert [request.path for request in heygen_server.seen] == ["/v3/videos/v-1"]

    async def test_a_refused_key_drops_the_cached_settings(
        self,
        define_connection: Callable[..., str],
        heygen_server: FakeHeyGen,
        counted_lookups: list[str],
    ) -> None:
        conn = define_connection(host=heygen_server.base_url, password="sk-revoked")
        heygen_server.script.append((401, {"code": 400112, "message": "Unauthorized"}, {}))
        with pytest.raises(HeyGenAuthenticationError):
            await HeyGenHook(conn, retry_policy=NO_WAIT).aget_video_status("v-1")
        define_connection(host=heygen_server.base_url)  # the admin puts the new key in

        await HeyGenHook(conn, retry_policy=NO_WAIT).aget_video_status("v-1")

        assert counted_lookups == [conn, conn], "looked up again at once, not after the five-minute TTL"
        assert heygen_server.seen[-1].headers["X-Api-Key"] == API_KEY


class TestDeleteVideo:
    async def test_sends_one_delete_through_the_shared_session(
        self, define_connection: Callable[..., str], heygen_server: FakeHeyGen, sync_path_forbidden: None
    ) -> None:
        heygen_server.script.append((200, {"data": {"id": "v-9", "deleted": True}}, {}))
        conn_id = define_connection(host=heygen_server.base_url)
        assert await HeyGenHook(conn_id).adelete_video("v-9") is True
        (request,) = heygen_server.seen
        assert (request.method, request.path) == ("DELETE", "/v3/videos/v-9")
        assert request.headers["X-Api-Key"] == API_KEY

    async def test_a_video_already_gone_answers_false(
        self, define_connection: Callable[..., str], heygen_server: FakeHeyGen
    ) -> None:
        heygen_server.script.append((404, {"error": {"code": "video_not_found", "message": "gone"}}, {}))
        conn_id = define_connection(host=heygen_server.base_url)
        assert await HeyGenHook(conn_id, retry_policy=NO_WAIT).adelete_video("v-9") is False
        assert len(heygen_server.seen) == 1

    async def test_is_retried_after_a_server_error(
        self, define_connection: Callable[..., str], heygen_server: FakeHeyGen
    ) -> None:
        heygen_server.script.append((503, {"error": {"code": "unavailable", "message": "busy"}}, {}))
        heygen_server.script.append((200, {"data": {"id": "v-9", "deleted": True}}, {}))
        conn_id = define_connection(host=heygen_server.base_url)
        assert await HeyGenHook(conn_id, retry_policy=NO_WAIT).adelete_video("v-9") is True
        assert [request.method for request in heygen_server.seen] == ["DELETE", "DELETE"]
