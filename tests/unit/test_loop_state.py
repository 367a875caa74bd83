"""
The HeyGen triggers' one per-loop state (:class:`TriggererLoopState`) and the names that moved with it
(issue 28): each old import still works, with a DeprecationWarning naming the new place.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

from heygen_provider.hooks import cache
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.triggers import heygen as trigger_module
from heygen_provider.triggers.heygen import HeyGenVideoStatusTrigger
from heygen_provider.triggers.loop_state import TriggererLoopState


async def first_event(trigger: HeyGenVideoStatusTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return event.payload  # type: ignore[no-any-return]
    raise AssertionError("no event")


def v3_server(answers: dict[str, list[str]], bulk_calls: list[list[str]]) -> web.Application:
    """``GET /v3/videos/statuses`` and ``GET /v3/videos/{id}``: each video's statuses in turn, then the last."""

    def next_status(video_id: str) -> str:
        queue = answers[video_id]
        return queue.pop(0) if len(queue) > 1 else queue[0]

    async def bulk(request: web.Request) -> web.Response:
        ids = request.query["video_ids"].split(",")
        bulk_calls.append(ids)
        return web.json_response(
            {"data": [{"video_id": video_id, "status": next_status(video_id)} for video_id in ids]}
        )

    async def single(request: web.Request) -> web.Response:
        video_id = request.match_info["video_id"]
        data = {"id": video_id, "status": "completed", "video_url": f"https://files.example/{video_id}.mp4"}
        return web.json_response({"data": data})

    app = web.Application()
    app.router.add_get("/v3/videos/statuses", bulk)
    app.router.add_get("/v3/videos/{video_id}", single)
    return app


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


class TestOneStatePerLoop:
    def test_the_waits_of_a_loop_share_one_state_and_the_last_to_leave_closes_it(
        self, define_connection: Callable[..., str]
    ) -> None:
        seen: dict[str, Any] = {}

        async def run() -> list[dict[str, Any]]:
            runner, url = await serve(v3_server({"v-1": ["processing", "completed"], "v-2": ["completed"]}, []))
            define_connection(host=url, api_version=None)
            state = TriggererLoopState.of_running_loop()
            try:
                first = asyncio.ensure_future(first_event(HeyGenVideoStatusTrigger("v-1", poll_interval=0.02)))
                second = asyncio.ensure_future(first_event(HeyGenVideoStatusTrigger("v-2", poll_interval=0.02)))
                while state.users < 2 or not state.sessions:  # noqa: ASYNC110 (both waits started)
                    await asyncio.sleep(0.001)
                seen["users"], seen["pollers"] = state.users, list(state.pollers)
                seen["session"] = next(iter(state.sessions.values()))
                events = list(await asyncio.gather(first, second))
                seen["after"] = (state.users, state.sessions, state.pollers, state.log_writer._thread)
                seen["same"] = TriggererLoopState.of_running_loop() is state
                return events
            finally:
                await runner.cleanup()

        events = asyncio.run(run())
        assert [event["status"] for event in events] == ["success", "success"]
        assert seen["users"] == 2 and seen["pollers"] == ["heygen_default"]
        assert seen["session"].closed
        assert seen["after"] == (0, {}, {}, None)
        assert seen["same"]

    def test_each_loop_has_its_own_state(self) -> None:
        async def state() -> TriggererLoopState:
            return TriggererLoopState.of_running_loop()

        assert asyncio.run(state()) is not asyncio.run(state())

    def test_a_trigger_takes_over_the_sessions_the_hook_opened_on_its_loop(self) -> None:
        async def run() -> bool:
            session = cache.shared_session("heygen_default", {})
            async with TriggererLoopState.of_running_loop() as state:
                taken_over = state.sessions == {"heygen_default": session}
            return taken_over and session.closed

        assert asyncio.run(run())

    def test_the_poller_asks_once_whether_its_connection_has_a_bulk_call(
        self, define_connection: Callable[..., str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        asked: list[str] = []
        settings = HeyGenHook.aget_settings

        async def counted(hook: HeyGenHook) -> Any:
            caller = sys._getframe(1).f_code
            if caller.co_filename.endswith("status_poller.py"):  # the poller's own question, not a call's
                asked.append(caller.co_name)
            return await settings(hook)

        monkeypatch.setattr(HeyGenHook, "aget_settings", counted)
        bulk_calls: list[list[str]] = []

        async def run() -> list[dict[str, Any]]:
            statuses = ["pending", "processing", "pending", "processing", "completed"]
            runner, url = await serve(v3_server({"v-1": list(statuses), "v-2": list(statuses)}, bulk_calls))
            define_connection(host=url, api_version=None)
            try:
                waits = (HeyGenVideoStatusTrigger(video_id, poll_interval=0.02) for video_id in ("v-1", "v-2"))
                return list(await asyncio.gather(*(first_event(trigger) for trigger in waits)))
            finally:
                await runner.cleanup()

        assert [event["status"] for event in asyncio.run(run())] == ["success", "success"]
        assert len(bulk_calls) >= 5
        # The hook's own calls read the (cached) settings each time; the poller asks at the first wait
        # (each of the two waits starting together asks before the answer is in), never at a poll.
        assert 1 <= len(asked) <= 2


class TestOneVideoUrlRule:
    @pytest.mark.legacy
    def test_the_trigger_and_the_sensor_give_up_after_the_same_count(
        self, define_connection: Callable[..., str], monkeypatch: pytest.MonkeyPatch, requests_mock: Any
    ) -> None:
        from heygen_provider.sensors.heygen import HeyGenVideoSensor

        # One rule: changing its count changes both waits.
        monkeypatch.setattr(trigger_module, "VIDEO_URL_CHECKS", 2)
        without_url = {"code": 100, "data": {"id": "v-1", "status": "completed", "video_url": None}}
        requests_mock.get("https://api.heygen.com/v1/video_status.get", json=without_url)
        define_connection()
        sensor = HeyGenVideoSensor(task_id="wait", video_id="v-1", deferrable=False)
        assert sensor.poke({}) is False
        with pytest.raises(Exception, match="gave no video_url in 2 status checks"):
            sensor.poke({})

        checks = trigger_module.VideoUrlChecks("v-1")
        status = HeyGenHook().get_video_status("v-1")
        assert checks.error_after(status) is None
        error = checks.error_after(status)
        assert error is not None and "in 2 status checks" in str(error)


class TestMovedNames:
    @pytest.mark.parametrize("name", ["status_trigger", "execution_deadline", "wait_for_event"])
    def test_the_waiting_module_still_gives_its_names_with_a_warning(self, name: str) -> None:
        waiting = importlib.import_module("heygen_provider.waiting")
        with pytest.warns(DeprecationWarning, match="from heygen_provider.triggers.heygen instead"):
            moved = getattr(waiting, name)
        assert moved is getattr(trigger_module, name)

    def test_from_import_of_the_waiting_module_still_works(self) -> None:
        with pytest.warns(DeprecationWarning):
            from heygen_provider.waiting import status_trigger
        assert status_trigger is trigger_module.status_trigger

    def test_close_shared_sessions_still_closes_the_loops_sessions_with_a_warning(self) -> None:
        async def run() -> bool:
            session = cache.shared_session("heygen_default", {})
            with pytest.warns(DeprecationWarning, match="TriggererLoopState"):
                await cache.close_shared_sessions()
            return session.closed

        assert asyncio.run(run())

    def test_session_lease_still_holds_the_loops_state_with_a_warning(self) -> None:
        async def run() -> tuple[int, bool]:
            with pytest.warns(DeprecationWarning, match="TriggererLoopState"):
                async with cache.session_lease("heygen_default"):
                    session = cache.shared_session("heygen_default", {})
                    users = TriggererLoopState.of_running_loop().users
            return users, session.closed

        assert asyncio.run(run()) == (1, True)

    def test_heap_freezer_still_gives_the_loops_freezer_with_a_warning(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from heygen_provider.triggers import heap

        monkeypatch.setenv("AIRFLOW__HEYGEN__FREEZE_TRIGGERER_HEAP", "True")

        async def run() -> bool:
            state = TriggererLoopState.of_running_loop()
            with pytest.warns(DeprecationWarning, match="TriggererLoopState"):
                return heap.heap_freezer() is state.freezer is not None

        assert asyncio.run(run())

    def test_write_log_still_writes_with_a_warning(self) -> None:
        from heygen_provider.triggers import log_lines

        written: list[str] = []

        async def run() -> None:
            with pytest.warns(DeprecationWarning, match="log_writer.write"):
                await log_lines.write_log(written.append, "a line")

        asyncio.run(run())
        assert written == ["a line"]


def test_a_deadline_an_hour_away_is_absolute() -> None:
    trigger = trigger_module.status_trigger(
        video_id="v-1",
        heygen_conn_id="heygen_default",
        poll_interval=5,
        timeout=3600,
        execution_timeout=None,
        context={},
    )
    assert trigger.end_time is not None and 3590 < trigger.end_time - time.time() <= 3600
