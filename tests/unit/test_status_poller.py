"""
The shared poller's reading of bulk answers and its fallback, against a real aiohttp server on
loopback that answers the bulk call however a test needs (HeyGen's own answers, proxies, odd bodies).
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import json
import logging
import sys
import threading
import time
import weakref
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web

from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.models.event import VideoEvent
from heygen_provider.models.status import VideoStatus, VideoStatusResponse, bulk_statuses
from heygen_provider.progress import RenderProgress
from heygen_provider.triggers.heygen import HeyGenVideoStatusTrigger
from heygen_provider.triggers.log_lines import LogWriter
from tests.fixtures.loopback import start_status_server
from tests.fixtures.triggers import first_event

BulkAnswer = Callable[[list[str]], web.Response]


def completed(video_id: str) -> dict[str, Any]:
    return {"data": {"id": video_id, "status": "completed", "video_url": f"https://files.example/{video_id}.mp4"}}


class BulkServer:
    """``GET /v3/videos/statuses`` answered by :attr:`bulk`, ``GET /v3/videos/{id}`` always completed."""

    def __init__(self) -> None:
        self.bulk: BulkAnswer = lambda ids: web.json_response({"data": []})
        self.bulk_calls: list[list[str]] = []
        self.single_calls: list[str] = []

    async def handle_bulk(self, request: web.Request) -> web.Response:
        ids = request.query.get("video_ids", "").split(",")
        self.bulk_calls.append(ids)
        return self.bulk(ids)

    async def handle_single(self, request: web.Request) -> web.Response:
        self.single_calls.append(request.match_info["video_id"])
        return web.json_response(completed(request.match_info["video_id"]))

    async def start(self) -> tuple[web.AppRunner, str]:
        """Serve on 127.0.0.1; answers the runner and the base URL."""
        return await start_status_server(self.handle_single, bulk=self.handle_bulk)


def wait_on(
    server: BulkServer, define_connection: Callable[..., str], video_ids: list[str], poll_interval: float = 0.05
) -> list[VideoEvent]:
    async def run() -> list[VideoEvent]:
        runner, url = await server.start()
        define_connection(host=url)

        def trigger(video_id: str) -> HeyGenVideoStatusTrigger:
            return HeyGenVideoStatusTrigger(video_id, poll_interval=poll_interval, end_time=time.time() + 20)

        try:
            return list(await asyncio.gather(*(first_event(trigger(video_id)) for video_id in video_ids)))
        finally:
            await runner.cleanup()

    return asyncio.run(run())


@pytest.mark.parametrize("http_status", [400, 404, 405, 414])
def test_a_refused_bulk_call_means_polling_each_video_alone(
    http_status: int, define_connection: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    server = BulkServer()
    server.bulk = lambda ids: web.json_response(
        {"error": {"code": "invalid_parameter", "message": "unknown path"}}, status=http_status
    )
    with caplog.at_level(logging.WARNING, logger="heygen_provider.triggers.status_poller"):
        events = wait_on(server, define_connection, ["v-1", "v-2"])
    assert [event.status for event in events] == ["success", "success"]
    assert len(server.bulk_calls) == 1
    assert sorted(server.single_calls) == ["v-1", "v-2"]
    assert sum("polling each video alone" in record.message for record in caplog.records) == 1


def test_an_html_page_from_a_proxy_on_the_bulk_path_pauses_the_poller_not_the_waits(
    define_connection: Callable[..., str],
) -> None:
    server = BulkServer()
    answers = iter([web.Response(status=502, text="<html><h1>502 Bad Gateway</h1></html>", content_type="text/html")])
    server.bulk = lambda ids: (
        next(answers, None)
        or web.json_response({"data": [{"video_id": video_id, "status": "completed"} for video_id in ids]})
    )
    events = wait_on(server, define_connection, ["v-1"])
    assert events[0].status == "success"
    assert len(server.bulk_calls) == 2 and server.single_calls == ["v-1"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"data": {"video_id": "v-1", "status": "completed"}}, id="data-an-object"),
        pytest.param({"data": None}, id="data-null"),
        pytest.param({"data": ["v-1", 7, None]}, id="entries-not-objects"),
        pytest.param({"data": [{"video_id": "someone-else", "status": "processing"}]}, id="ids-not-asked"),
        pytest.param({"data": [{"video_id": "v-1"}]}, id="no-status"),
    ],
)
def test_an_odd_bulk_answer_means_asking_about_each_video_alone(
    body: dict[str, Any], define_connection: Callable[..., str]
) -> None:
    server = BulkServer()
    server.bulk = lambda ids: web.json_response(body)
    events = wait_on(server, define_connection, ["v-1"])
    assert events[0].status == "success" and events[0].result["video_url"]
    assert server.single_calls == ["v-1"]


def test_an_id_with_a_comma_is_never_split_into_two_in_a_bulk_call(define_connection: Callable[..., str]) -> None:
    server = BulkServer()
    events = wait_on(server, define_connection, ["v-1,v-2", "v-3"])
    assert [event.status for event in events] == ["success", "success"]
    assert all("v-1" not in ids for ids in server.bulk_calls)
    assert sorted(server.single_calls) == ["v-1,v-2", "v-3"]


class TestBulkStatuses:
    def test_reads_each_asked_entry_with_the_one_status_mapping(self) -> None:
        data = [
            {"video_id": "a", "status": "queued", "error": None},
            {"video_id": "b", "status": "processing"},
            {"video_id": "c", "status": "failed", "error": {"code": 40119, "message": "too long"}},
            {"video_id": "d", "status": "not_found"},
            {"video_id": 12345, "status": "completed"},
            {"video_id": "e", "status": "under_review"},
        ]
        found = bulk_statuses(data, ["a", "b", "c", "d", "12345", "e"])
        assert {video_id: status.status for video_id, status in found.items()} == {
            "a": VideoStatus.QUEUED,
            "b": VideoStatus.PROCESSING,
            "c": VideoStatus.FAILED,
            "d": VideoStatus.FAILED,
            "12345": VideoStatus.SUCCESS,
            "e": VideoStatus.PROCESSING,
        }
        assert found["c"].error is not None and found["c"].error.code == 40119

    @pytest.mark.parametrize(
        "data",
        [
            None,
            {},
            "text",
            [None, 1, "x"],
            [{"status": "completed"}],
            [{"video_id": {"id": "a"}, "status": "completed"}],
        ],
    )
    def test_leaves_out_what_it_cannot_read(self, data: Any) -> None:
        assert bulk_statuses(json.loads(json.dumps(data)), ["a"]) == {}

    def test_an_odd_error_object_is_tolerated(self) -> None:
        found = bulk_statuses([{"video_id": "a", "status": "failed", "error": ["x"]}], ["a"])
        assert found["a"].status is VideoStatus.FAILED


def bulk_answers(*statuses: str) -> BulkAnswer:
    """Answer the bulk call with each of ``statuses`` in turn for every asked id, then the last one."""
    remaining = list(statuses)

    def answer(ids: list[str]) -> web.Response:
        status = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        return web.json_response({"data": [{"video_id": video_id, "status": status} for video_id in ids]})

    return answer


class TestQuietPolls:
    """A status that changes nothing and needs no progress line is read but does not wake its trigger."""

    def wake_count(self, monkeypatch: pytest.MonkeyPatch) -> list[str]:
        woken: list[str] = []
        on_status = HeyGenVideoStatusTrigger._on_status

        def counted(trigger: HeyGenVideoStatusTrigger, status: Any, *args: Any) -> Any:
            woken.append(status.service_status)
            return on_status(trigger, status, *args)

        monkeypatch.setattr(HeyGenVideoStatusTrigger, "_on_status", counted)
        return woken

    def test_the_trigger_wakes_on_a_change_and_at_the_end_not_on_every_poll(
        self, define_connection: Callable[..., str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        woken = self.wake_count(monkeypatch)
        server = BulkServer()
        server.bulk = bulk_answers(*(["pending"] * 3), *(["processing"] * 3), "completed")
        events = wait_on(server, define_connection, ["v-1"])
        assert events[0].status == "success"
        assert len(server.bulk_calls) == 7
        # Woken by the first status, by the change and by the ended render's own GET.
        assert woken == ["pending", "processing", "completed"]
        output = capsys.readouterr().out
        assert output.count("HeyGen video v-1 is pending;") == 1
        assert output.count("HeyGen video v-1 is processing (was pending)") == 1
        assert "still" not in output

    def test_a_quiet_trigger_still_gets_its_progress_line_when_one_is_due(
        self, define_connection: Callable[..., str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setitem(RenderProgress.__init__.__kwdefaults__, "every", 0.12)
        woken = self.wake_count(monkeypatch)
        server = BulkServer()
        server.bulk = bulk_answers(*(["processing"] * 12), "completed")
        events = wait_on(server, define_connection, ["v-1"])
        assert events[0].status == "success"
        assert 2 < woken.count("processing") < 12

    def test_quiet_polls_arm_no_timer_and_make_no_future(
        self, define_connection: Callable[..., str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        created: list[str] = []
        timers: list[str] = []
        server = BulkServer()
        server.bulk = bulk_answers(*(["processing"] * 10), "completed")

        async def run() -> VideoEvent:
            runner, url = await server.start()
            define_connection(host=url)
            loop = asyncio.get_running_loop()
            create_future, call_at = loop.create_future, loop.call_at

            def counted_future() -> asyncio.Future[Any]:
                if sys._getframe(1).f_code.co_filename.endswith("status_poller.py"):
                    created.append("future")
                return create_future()

            def counted_call_at(when: float, callback: Any, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
                if getattr(callback, "__name__", "") == "_expire":
                    timers.append("deadline")
                return call_at(when, callback, *args, **kwargs)

            monkeypatch.setattr(loop, "create_future", counted_future)
            monkeypatch.setattr(loop, "call_at", counted_call_at)
            trigger = HeyGenVideoStatusTrigger("v-1", poll_interval=0.05, end_time=time.time() + 20)
            try:
                return await first_event(trigger)
            finally:
                await runner.cleanup()

        assert asyncio.run(run()).status == "success"
        assert len(server.bulk_calls) == 11
        # One deadline timer for the whole wait and a future for each of the trigger's two wakes (the
        # first status and the ended render), not one of each per poll.
        assert timers == ["deadline"]
        assert created == ["future", "future"]


def test_a_log_line_stuck_in_a_full_pipe_never_blocks_the_event_loop(define_connection: Callable[..., str]) -> None:
    # In Airflow's triggerer a line goes down a pipe the supervisor may be slow to read: the write
    # blocks. Here it blocks until the loop has run five more steps, or gives up after 5 s.
    entered, released = threading.Event(), threading.Event()
    outcome: dict[str, bool] = {}

    def stuck_write(message: str, *args: Any) -> None:
        entered.set()
        outcome.setdefault("loop_ran_while_the_line_was_stuck", released.wait(timeout=5))

    server = BulkServer()
    server.bulk = bulk_answers("processing", "completed")

    async def run() -> VideoEvent:
        runner, url = await server.start()
        define_connection(host=url)
        trigger = HeyGenVideoStatusTrigger("v-1", poll_interval=0.05, end_time=time.time() + 20)
        trigger._log = SimpleNamespace(info=stuck_write, warning=stuck_write)

        async def other_work() -> None:
            await asyncio.to_thread(entered.wait, 5)
            for _ in range(5):
                await asyncio.sleep(0.005)
            released.set()

        try:
            event, _ = await asyncio.gather(first_event(trigger), other_work())
            return event
        finally:
            await runner.cleanup()

    assert asyncio.run(run()).status == "success"
    assert outcome == {"loop_ran_while_the_line_was_stuck": True}


def test_a_line_written_from_the_thread_keeps_the_trigger_context() -> None:
    # Airflow routes a trigger's lines to its task's log file by context variables.
    trigger_id: contextvars.ContextVar[int] = contextvars.ContextVar("trigger_id")
    seen: list[tuple[int, str]] = []
    writer = LogWriter()

    async def one(number: int) -> None:
        trigger_id.set(number)
        await writer.write(lambda message: seen.append((trigger_id.get(), message)), f"line of {number}")

    async def run() -> None:
        await asyncio.gather(*(one(number) for number in range(5)))

    asyncio.run(run())
    writer.close()
    assert sorted(seen) == [(number, f"line of {number}") for number in range(5)]


def test_with_the_heap_setting_on_waiting_triggers_freeze_the_heap_until_they_end(
    define_connection: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from heygen_provider.triggers import heap

    monkeypatch.setenv("AIRFLOW__HEYGEN__FREEZE_TRIGGERER_HEAP", "True")
    monkeypatch.setattr(heap, "FREEZE_CHECK_INTERVAL", 0.02)
    gc.unfreeze()
    frozen_while_waiting: list[int] = []
    answer = bulk_answers(*["processing"] * 8, "completed")

    def sample_then_answer(ids: list[str]) -> web.Response:
        frozen_while_waiting.append(gc.get_freeze_count())
        return answer(ids)

    server = BulkServer()
    server.bulk = sample_then_answer
    try:
        events = wait_on(server, define_connection, ["v1", "v2", "v3"], poll_interval=0.05)
        assert [event.status for event in events] == ["success"] * 3
        assert max(frozen_while_waiting) > 0
        assert gc.get_freeze_count() == 0  # the last trigger to end thawed it
    finally:
        gc.unfreeze()


# -- the per-poll performance rules (see the comments in heygen_provider/triggers/) --------------------


class LiveStatuses:
    """The statuses the hook's async calls returned, counted while they are alive."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.references: list[weakref.ref[VideoStatusResponse]] = []
        single, bulk = HeyGenHook.aget_video_status, HeyGenHook.aget_video_statuses

        async def counted_single(hook: HeyGenHook, video_id: str) -> VideoStatusResponse:
            status = await single(hook, video_id)
            self.references.append(weakref.ref(status))
            return status

        async def counted_bulk(hook: HeyGenHook, video_ids: list[str]) -> dict[str, VideoStatusResponse]:
            statuses = await bulk(hook, video_ids)
            self.references.extend(weakref.ref(status) for status in statuses.values())
            return statuses

        monkeypatch.setattr(HeyGenHook, "aget_video_status", counted_single)
        monkeypatch.setattr(HeyGenHook, "aget_video_statuses", counted_bulk)

    def alive(self) -> int:
        gc.collect()
        return sum(reference() is not None for reference in self.references)


def changing_answers(count: int) -> list[str]:
    """Statuses that change at every poll, so each one wakes the trigger, then ``completed``."""
    return [("pending", "processing")[number % 2] for number in range(count)] + ["completed"]


class TestPerPollRules:
    """
    What keeps thousands of waits cheap, each rule checked where it could be broken: nothing a poll made
    outlives it, and a wait polled alone arms no timer of its own while its deadline is far.
    """

    def test_no_status_outlives_the_poll_that_brought_it_in_bulk(
        self, define_connection: Callable[..., str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        answers = bulk_answers(*changing_answers(4))
        statuses = LiveStatuses(monkeypatch)
        alive_at_polls: list[int] = []

        def count_then_answer(ids: list[str]) -> web.Response:
            # The trigger is suspended on its next status here: what it still holds is counted.
            alive_at_polls.append(statuses.alive())
            return answers(ids)

        server = BulkServer()
        server.bulk = count_then_answer
        events = wait_on(server, define_connection, ["v-1"])
        assert events[0].status == "success"
        assert len(alive_at_polls) == 5 and statuses.references
        assert alive_at_polls == [0] * 5

    @pytest.mark.legacy
    def test_no_status_outlives_the_poll_that_brought_it_alone(
        self, define_connection: Callable[..., str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        answers = iter(changing_answers(4))
        statuses = LiveStatuses(monkeypatch)
        alive_at_polls: list[int] = []

        async def legacy_status(request: web.Request) -> web.Response:
            alive_at_polls.append(statuses.alive())
            video_id = request.query["video_id"]
            status = next(answers)
            data = {"id": video_id, "status": status, "video_url": f"https://files.example/{video_id}.mp4"}
            return web.json_response({"code": 100, "data": data, "message": "Success"})

        assert self.wait_alone(legacy_status, define_connection).status == "success"
        assert len(alive_at_polls) == 5 and statuses.references
        assert alive_at_polls == [0] * 5

    @pytest.mark.legacy
    def test_a_wait_polled_alone_arms_no_timer_while_its_deadline_is_far(
        self, define_connection: Callable[..., str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        answers = iter(changing_answers(5))
        timers: list[str] = []

        async def legacy_status(request: web.Request) -> web.Response:
            data = {
                "id": request.query["video_id"],
                "status": next(answers),
                "video_url": "https://files.example/v.mp4",
            }
            return web.json_response({"code": 100, "data": data, "message": "Success"})

        def record_timers(loop: asyncio.AbstractEventLoop) -> None:
            call_at = loop.call_at

            def counted_call_at(when: float, callback: Any, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
                # A timer the wait itself arms: asked for from the trigger's code, not by a sleep between
                # polls nor by the transport's request timeout.
                files = [frame.f_code.co_filename for frame in _frames()]
                if (
                    getattr(callback, "__name__", "") != "_set_result_unless_cancelled"
                    and any("heygen_provider/triggers/" in name for name in files)
                    and not any("heygen_provider/hooks/" in name for name in files)
                ):
                    timers.append(getattr(callback, "__qualname__", repr(callback)))
                return call_at(when, callback, *args, **kwargs)

            monkeypatch.setattr(loop, "call_at", counted_call_at)

        assert self.wait_alone(legacy_status, define_connection, on_loop=record_timers).status == "success"
        assert timers == []

    @staticmethod
    def wait_alone(
        handler: Callable[[web.Request], Any],
        define_connection: Callable[..., str],
        on_loop: Callable[[asyncio.AbstractEventLoop], None] | None = None,
    ) -> VideoEvent:
        """One wait on a ``legacy`` connection (no bulk call: the video is polled alone), deadline an hour away."""

        async def run() -> VideoEvent:
            app = web.Application()
            app.router.add_get("/v1/video_status.get", handler)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            define_connection(host=f"http://127.0.0.1:{runner.addresses[0][1]}")
            if on_loop is not None:
                on_loop(asyncio.get_running_loop())
            trigger = HeyGenVideoStatusTrigger("v-1", poll_interval=0.01, end_time=time.time() + 3600)
            try:
                async for event in trigger.run():
                    return VideoEvent.from_payload(event.payload)
                raise AssertionError("no event")
            finally:
                await runner.cleanup()

        return asyncio.run(run())


def _frames() -> list[Any]:
    frame = sys._getframe(1)
    frames = []
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back  # type: ignore[assignment]
    return frames
