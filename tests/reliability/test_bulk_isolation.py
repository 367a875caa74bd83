"""
Reliability item 27.4: one bad id fails alone, and no answer is read past a cap.

The triggerer's shared poller puts the waiting ids of a connection into bulk status calls. Against a real
aiohttp server on 127.0.0.1 that answers as HeyGen's front does (HTTP 414 for a URL over 8,000
characters): a 9,000-character id ends its own wait with a clear error and the rest of its cohort
completes; every URL stays within the limit, whatever the ids (property-based). A bulk answer of many
megabytes ends the waits it was for with an error, read in memory bounded by the cap, not by the body
(``tracemalloc``), and in steps no longer than a legitimate answer's (CPU time of each event-loop step,
compared with a baseline in the same test; never a wall clock). The worker's sync path has its cap too.
"""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import quote, unquote

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heygen_provider.api_versions import MAX_URL_IDS_LENGTH
from heygen_provider.exceptions import HeyGenAnswerTooLargeError
from heygen_provider.hooks.cache import forget_settings
from heygen_provider.hooks.calls import MAX_ANSWER_BYTES, MAX_TRIGGERER_ANSWER_BYTES
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.models.event import VideoEvent
from heygen_provider.retry import RetryPolicy
from heygen_provider.triggers.heygen import HeyGenVideoStatusTrigger
from heygen_provider.triggers.loop_state import TriggererLoopState
from tests.fixtures.loopback import start_status_server
from tests.fixtures.triggers import first_event

#: What HeyGen's front takes: a longer request URL is answered HTTP 414 (RFC 9110's recommended minimum).
URL_LIMIT = 8_000
BAD_ID = "x" * 9_000
COHORT = [f"video-{number:02d}" for number in range(20)]
#: A body many times the triggerer's cap, streamed by the server in pieces of this size.
HUGE_BODY = 16 * MAX_TRIGGERER_ANSWER_BYTES
PIECE = 64 * 1024


class HeyGenFront:
    """
    ``GET /v3/videos/statuses`` and ``GET /v3/videos/{id}`` as HeyGen answers them: every id is completed,
    and a URL longer than :data:`URL_LIMIT` is refused with 414, as HeyGen's front refuses it.
    """

    def __init__(self) -> None:
        self.urls: list[str] = []
        #: Answers the bulk call instead, when set.
        self.bulk: Callable[[web.Request], Awaitable[web.StreamResponse]] | None = None

    def too_long(self, request: web.Request) -> web.Response | None:
        url = str(request.url)
        self.urls.append(url)
        return web.Response(status=414, text="414 Request-URI Too Large") if len(url) > URL_LIMIT else None

    async def handle_bulk(self, request: web.Request) -> web.StreamResponse:
        if (refused := self.too_long(request)) is not None:
            return refused
        if self.bulk is not None:
            return await self.bulk(request)
        ids = request.query["video_ids"].split(",")
        return web.json_response({"data": [{"video_id": video_id, "status": "completed"} for video_id in ids]})

    async def handle_single(self, request: web.Request) -> web.Response:
        if (refused := self.too_long(request)) is not None:
            return refused
        video_id = request.match_info["video_id"]
        return web.json_response(
            {"data": {"id": video_id, "status": "completed", "video_url": f"https://files.example/{quote(video_id)}"}}
        )


@asynccontextmanager
async def serving(front: HeyGenFront, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    # The server reads long request lines itself, so that the 414 is HeyGen's answer, not aiohttp's 400.
    runner, host = await start_status_server(front.handle_single, bulk=front.handle_bulk, max_line_size=65_536)
    forget_settings()
    monkeypatch.setenv(
        "AIRFLOW_CONN_HEYGEN_DEFAULT", json.dumps({"conn_type": "heygen", "host": host, "password": "sk-bulk"})
    )
    try:
        # Held as a trigger's wait holds it: what the test's hook calls open closes with it.
        async with TriggererLoopState.of_running_loop():
            yield
    finally:
        await runner.cleanup()


async def wait_on(video_ids: list[str]) -> dict[str, VideoEvent]:
    """Each id's single event, its trigger polling every 50 ms."""

    def trigger(video_id: str) -> HeyGenVideoStatusTrigger:
        return HeyGenVideoStatusTrigger(video_id, poll_interval=0.05, end_time=time.time() + 30)

    events = await asyncio.gather(*(first_event(trigger(video_id)) for video_id in video_ids))
    return dict(zip(video_ids, events, strict=True))


def test_a_9000_character_id_fails_alone_and_the_20_others_of_its_cohort_complete(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    front = HeyGenFront()

    async def run() -> dict[str, VideoEvent]:
        async with serving(front, monkeypatch):
            return await wait_on([*COHORT, BAD_ID])

    events = asyncio.run(run())
    assert {video_id: events[video_id].status for video_id in COHORT} == dict.fromkeys(COHORT, "success")
    bad = events[BAD_ID]
    assert bad.status == "error"
    assert "9,000 characters" in bad.message and "video_id" in bad.message
    assert "x" * 100 not in bad.message and len(bad.message) < 400  # the id is named by its start only
    assert max(len(url) for url in front.urls) <= URL_LIMIT
    assert not any(BAD_ID in url for url in front.urls)  # refused before any call


def test_a_bulk_call_that_fails_ends_only_the_waits_of_its_own_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    # 30 ids of 250 characters do not fit in one URL: the cohort is polled in several bulk calls, and
    # HeyGen refuses the one that carries the poisoned id.
    cohort = [f"{number:02d}".ljust(250, "v") for number in range(30)]
    poisoned = cohort[-1]
    front = HeyGenFront()
    calls: list[list[str]] = []

    async def refuse_the_poisoned(request: web.Request) -> web.Response:
        ids = request.query["video_ids"].split(",")
        calls.append(ids)
        if poisoned in ids:
            return web.json_response({"error": {"code": "invalid_parameter", "message": "bad id"}}, status=422)
        return web.json_response({"data": [{"video_id": video_id, "status": "completed"} for video_id in ids]})

    front.bulk = refuse_the_poisoned

    async def run() -> dict[str, VideoEvent]:
        async with serving(front, monkeypatch):
            return await wait_on(cohort)

    events = asyncio.run(run())
    refused = next(ids for ids in calls if poisoned in ids)
    assert len(calls) > 1 and len(refused) < len(cohort)
    assert {video_id for video_id, event in events.items() if event.status == "error"} == set(refused)
    assert all(events[video_id].status == "success" for video_id in cohort if video_id not in refused)


# Ids that start with a letter (so no path segment reads as "." or ".."), of any length up to past the
# limit, with commas, spaces and non-ASCII letters among them.
video_ids = st.builds(
    lambda first, rest, length: (first + rest * (length // max(1, len(rest)) + 1))[:length],
    st.sampled_from("abcXYZ"),
    st.text(alphabet="abc019-_.~, é東", min_size=1, max_size=8),
    st.one_of(st.integers(1, 40), st.integers(200, 300), st.integers(1_500, 2_500), st.integers(5_900, 9_000)),
)


@settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cohort=st.lists(video_ids, min_size=1, max_size=30, unique=True))
def test_every_status_url_stays_within_the_limit_and_only_ids_no_url_can_carry_fail(
    cohort: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    front = HeyGenFront()

    async def run() -> dict[str, VideoEvent]:
        async with serving(front, monkeypatch):
            return await wait_on(cohort)

    events = asyncio.run(run())
    assert max((len(url) for url in front.urls), default=0) <= URL_LIMIT
    for video_id, event in events.items():
        if len(quote(video_id, safe="")) <= MAX_URL_IDS_LENGTH:
            assert event.status == "success", (len(video_id), event.message[:200])
        else:  # the documented rule: refused before any call, its start only in the message
            assert event.status == "error" and f"got {len(video_id):,} characters" in event.message
            assert len(event.message) < 400
            assert not any(video_id[:MAX_URL_IDS_LENGTH] in unquote(url) for url in front.urls)


# -- answers of any size ----------------------------------------------------------------------------------


def huge_bulk(declare_length: bool) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A bulk answer of :data:`HUGE_BODY` bytes of well-formed entries, streamed piece by piece."""
    entry = b'{"video_id": "someone-else", "status": "processing"},'
    piece = entry * (PIECE // len(entry))
    head, tail = b'{"data": [', b'{"video_id": "last", "status": "processing"}]}'
    pieces = HUGE_BODY // len(piece)

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        if declare_length:
            response.content_length = len(head) + pieces * len(piece) + len(tail)
        await response.prepare(request)
        try:
            await response.write(head)
            for _ in range(pieces):
                await response.write(piece)
            await response.write(tail)
            await response.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client hung up at its cap
        return response

    return answer


@pytest.fixture
def loop_steps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """
    The CPU time of each event-loop step (callback or task step) of this thread: how long the loop could
    do nothing else. CPU time, not the wall clock, so a busy machine does not count. The collector is off
    meanwhile: its passes land in whichever step allocates, at random.
    """
    steps: list[float] = []
    run = asyncio.events.Handle._run

    def timed(handle: asyncio.Handle) -> None:
        started = time.thread_time()
        try:
            run(handle)
        finally:
            steps.append(time.thread_time() - started)

    monkeypatch.setattr(asyncio.events.Handle, "_run", timed)
    gc.disable()
    try:
        yield steps
    finally:
        gc.enable()


@pytest.mark.parametrize("declare_length", [False, True], ids=["chunked", "content-length"])
def test_a_huge_bulk_answer_ends_its_waits_in_memory_bounded_by_the_cap(
    declare_length: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    front = HeyGenFront()
    huge = huge_bulk(declare_length)

    async def run() -> tuple[dict[str, VideoEvent], int]:
        async with serving(front, monkeypatch):
            await wait_on(["warm-up"])  # imports and the connection, before measuring
            front.bulk = huge
            tracemalloc.start()
            try:
                events = await wait_on(COHORT[:3])
                return events, tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    events, peak = asyncio.run(run())
    assert peak < 3 * MAX_TRIGGERER_ANSWER_BYTES, f"peak {peak:,} bytes for a {HUGE_BODY:,}-byte answer"
    for event in events.values():
        assert event.status == "error" and event.error_class == "HeyGenAnswerTooLargeError"
        assert f"longer than {MAX_TRIGGERER_ANSWER_BYTES:,} bytes" in event.message


def test_a_huge_bulk_answer_stalls_the_event_loop_no_longer_than_a_legitimate_one(
    loop_steps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    front = HeyGenFront()
    huge = huge_bulk(declare_length=False)
    measured: dict[str, float] = {}

    async def legitimate(request: web.Request) -> web.Response:
        ids = request.query["video_ids"].split(",")
        # A full bulk answer as HeyGen gives it: the asked ids and 100 entries in all.
        entries: list[dict[str, Any]] = [{"video_id": video_id, "status": "completed"} for video_id in ids]
        entries += [{"video_id": f"other-{n}", "status": "processing", "error": None} for n in range(100 - len(ids))]
        return web.json_response({"data": entries})

    async def run() -> dict[str, VideoEvent]:
        async with serving(front, monkeypatch):
            front.bulk = huge
            await wait_on(["warm-up-1"])  # imports, the connection and both answers' paths, before measuring
            front.bulk = legitimate
            await wait_on(["warm-up-2"])
            loop_steps.clear()
            await wait_on(COHORT[:3])
            measured["baseline"] = max(loop_steps)
            front.bulk = huge
            loop_steps.clear()
            events = await wait_on(COHORT[3:6])
            measured["huge"] = max(loop_steps)
            return events

    events = asyncio.run(run())
    # Reading 16 MiB in bounded steps: no step much longer than those of the legitimate answer's poll.
    assert measured["huge"] < 5 * measured["baseline"], measured
    assert all(event.status == "error" for event in events.values())


# -- the worker's sync path -------------------------------------------------------------------------------


class EndlessStatus(BaseHTTPRequestHandler):
    """A 200 status answer whose body goes on until the client hangs up; counts what was sent."""

    sent: ClassVar[list[int]] = []

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        piece = b"x" * PIECE
        sent = 0
        try:
            self.wfile.write(b'{"data": {"id": "v", "status": "processing", "padding": "')
            for _ in range(4 * MAX_ANSWER_BYTES // PIECE):
                self.wfile.write(piece)
                sent += len(piece)
            self.wfile.write(b'"}}')
        except OSError:
            pass
        finally:
            self.sent.append(sent)

    def log_message(self, *args: Any) -> None:
        pass


def test_the_sync_path_stops_reading_at_its_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EndlessStatus)
    EndlessStatus.sent = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv(
        "AIRFLOW_CONN_HEYGEN_DEFAULT", json.dumps({"conn_type": "heygen", "host": host, "password": "sk-bulk"})
    )
    forget_settings()
    tracemalloc.start()
    try:
        with pytest.raises(HeyGenAnswerTooLargeError, match=f"longer than {MAX_ANSWER_BYTES:,} bytes"):
            HeyGenHook(retry_policy=RetryPolicy(attempts=1)).get_video_status("v")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        server.shutdown()
        server.server_close()
    assert peak < 3 * MAX_ANSWER_BYTES, f"peak {peak:,} bytes"
    assert EndlessStatus.sent and EndlessStatus.sent[0] < 4 * MAX_ANSWER_BYTES - PIECE  # the client hung up
