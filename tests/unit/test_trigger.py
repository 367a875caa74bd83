"""HeyGenVideoStatusTrigger and its VideoEvent, against a real status endpoint on 127.0.0.1."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from typing import Any, ClassVar

import pytest

from heygen_provider.exceptions import HeyGenRenderError
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.models.event import VideoEvent
from heygen_provider.triggers.heygen import HeyGenVideoStatusTrigger
from tests.fixtures.answers import UNSUCCESSFUL_EVENTS, event, status_body, v3_video_body
from tests.fixtures.connections import API_KEY, CONN_ENV, assert_no_key, connection_json
from tests.fixtures.loopback import HANG, RESET, StatusServer
from tests.fixtures.triggers import collect_events, run_trigger_to_events

pytestmark = pytest.mark.usefixtures("no_jitter")

FAR = 3600.0


def make_trigger(video_id: str = "vid-1", *, end_in: float = FAR, **kwargs: Any) -> HeyGenVideoStatusTrigger:
    return HeyGenVideoStatusTrigger(
        video_id=video_id, poll_interval=kwargs.pop("poll_interval", 0.005), end_time=time.time() + end_in, **kwargs
    )


def only_event(trigger: HeyGenVideoStatusTrigger) -> dict[str, Any]:
    events = run_trigger_to_events(trigger)
    assert len(events) == 1, events
    payload = events[0].payload
    json.dumps(payload)  # JSON-able, as the triggerer stores it
    return payload  # type: ignore[no-any-return]


def result_from_event(payload: dict[str, Any]) -> dict[str, Any]:
    return VideoEvent.from_payload(payload).result_or_raise()


class TestSerialize:
    def test_the_stored_classpath_is_written_out_and_imports_the_trigger_class(self) -> None:
        # Triggers already in users' databases name this path: renaming or moving the class must leave
        # it importable, which is why it is written out, here and in the module.
        classpath, _ = make_trigger().serialize()
        assert classpath == "heygen_provider.triggers.heygen.HeyGenVideoStatusTrigger"
        module, _, name = classpath.rpartition(".")
        assert getattr(importlib.import_module(module), name) is HeyGenVideoStatusTrigger

    def test_a_subclass_serializes_under_its_own_classpath(self) -> None:
        class MyTrigger(HeyGenVideoStatusTrigger):
            pass

        classpath, _ = MyTrigger("vid-1").serialize()
        assert classpath == f"{__name__}.{MyTrigger.__qualname__}"

    def test_round_trip_through_the_classpath_rebuilds_an_equal_trigger(self) -> None:
        trigger = HeyGenVideoStatusTrigger(
            "vid-1",
            heygen_conn_id="my_heygen",
            poll_interval=7,
            end_time=1_900_000_000.5,
            execution_deadline=1_800_000_000.0,
            cancel_on_kill=True,
        )
        classpath, kwargs = trigger.serialize()
        module, _, name = classpath.rpartition(".")
        rebuilt = getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs)))
        assert type(rebuilt) is HeyGenVideoStatusTrigger
        assert rebuilt.serialize() == (classpath, kwargs)
        assert kwargs == {
            "video_id": "vid-1",
            "heygen_conn_id": "my_heygen",
            "poll_interval": 7.0,
            "end_time": 1_900_000_000.5,
            "execution_deadline": 1_800_000_000.0,
            "cancel_on_kill": True,
        }

    def test_rebuilt_trigger_keeps_the_same_absolute_deadline(self) -> None:
        trigger = make_trigger(end_in=600)
        _, kwargs = trigger.serialize()
        later = HeyGenVideoStatusTrigger(**kwargs)
        assert later.end_time == trigger.end_time
        assert later._next_deadline() == trigger._next_deadline()

    def test_api_key_is_never_in_the_payload_or_repr(self, status_server: StatusServer) -> None:
        status_server.statuses("vid-1", "completed")
        trigger = make_trigger()
        only_event(trigger)  # the key has been looked up and used
        assert_no_key(json.dumps(trigger.serialize()), repr(trigger))
        assert all(r["headers"].get("X-Api-Key") == API_KEY for r in status_server.polls())


class TestEvents:
    def test_completed_is_success_with_the_result(self, status_server: StatusServer) -> None:
        status_server.statuses("vid-1", "pending", "processing", "completed")
        event = only_event(make_trigger())
        assert event["status"] == "success"
        assert event["result"]["video_url"] == "https://files.heygen.ai/vid-1.mp4"
        assert len(status_server.polls()) == 3
        assert result_from_event(event)["video_id"] == "vid-1"

    def test_failed_carries_heygens_code_and_message(self, status_server: StatusServer) -> None:
        message = "Video is too long for your plan"
        status_server.script(
            "vid-1", (200, v3_video_body("vid-1", "failed", failure_code="40119", failure_message=message))
        )
        event = only_event(make_trigger())
        assert (event["status"], event["code"], event["message"]) == ("failed", "40119", message)

    def test_a_failed_render_is_logged_as_a_warning(
        self, status_server: StatusServer, capsys: pytest.CaptureFixture[str]
    ) -> None:
        status_server.script(
            "vid-1", (200, v3_video_body("vid-1", "processing")), (200, v3_video_body("vid-1", "failed"))
        )
        only_event(make_trigger())

        lines = [line for line in capsys.readouterr().out.splitlines() if "HeyGen video vid-1 is" in line]
        assert len(lines) == 2, lines
        assert "[info" in lines[0] and "is processing" in lines[0]
        assert "[warning" in lines[1] and "is failed (was processing)" in lines[1]

    def test_the_waiting_log_has_a_line_per_status_change_not_per_poll(
        self, status_server: StatusServer, capsys: pytest.CaptureFixture[str]
    ) -> None:
        status_server.statuses("vid-1", "pending", *["processing"] * 40, "completed")
        only_event(make_trigger())

        # Airflow's structlog writes the trigger's log to stdout.
        lines = [line for line in capsys.readouterr().out.splitlines() if "HeyGen video vid-1" in line]
        assert len(status_server.polls()) == 42
        assert [line.split("] ", 1)[1].split(";")[0] for line in lines] == [
            "HeyGen video vid-1 is pending",
            "HeyGen video vid-1 is processing (was pending)",
            "HeyGen video vid-1 is completed (was processing)",
        ]

    def test_cancelled(self, status_server: StatusServer) -> None:
        status_server.statuses("vid-1", "processing", "cancelled")
        assert only_event(make_trigger())["status"] == "cancelled"

    def test_completed_with_an_error_object_is_still_success(self, status_server: StatusServer) -> None:
        error = {"failure_code": "MOVIO_PAYMENT_INSUFFICIENT_CREDIT", "failure_message": "Insufficient credit"}
        status_server.script("vid-1", (200, v3_video_body("vid-1", "completed", **error)))
        event = only_event(make_trigger())
        assert event["status"] == "success"
        assert event["result"]["error"]["code"] == "MOVIO_PAYMENT_INSUFFICIENT_CREDIT"

    def test_a_deadline_in_the_past_still_asks_once_so_a_finished_video_is_a_success(
        self, status_server: StatusServer
    ) -> None:
        status_server.statuses("vid-1", "completed")
        event = only_event(make_trigger(end_in=-1))
        assert event["status"] == "success"
        assert len(status_server.polls()) == 1

    def test_a_deadline_in_the_past_with_the_render_still_running_times_out_after_one_check(
        self, status_server: StatusServer
    ) -> None:
        status_server.statuses("vid-1", "processing")
        event = only_event(make_trigger(end_in=-1))
        assert event["status"] == "timeout"
        assert "render timeout" in event["message"]
        assert len(status_server.polls()) == 1

    def test_render_still_running_at_the_deadline_times_out(self, status_server: StatusServer) -> None:
        status_server.statuses("vid-1", "processing")
        event = only_event(make_trigger(end_in=0.1, poll_interval=0.01))
        assert event["status"] == "timeout"
        assert len(status_server.polls()) >= 1

    def test_execution_deadline_before_end_time_names_execution_timeout(self, status_server: StatusServer) -> None:
        status_server.statuses("vid-1", "processing")
        event = only_event(make_trigger(execution_deadline=time.time() + 0.05, poll_interval=0.01))
        assert event["status"] == "timeout"
        assert "execution_timeout" in event["message"]

    def test_unknown_status_keeps_polling_until_the_deadline(self, status_server: StatusServer) -> None:
        status_server.statuses("vid-1", "rendering_in_new_ways")
        event = only_event(make_trigger(end_in=0.1, poll_interval=0.01))
        assert event["status"] == "timeout"
        assert len(status_server.polls()) >= 2

    def test_401_ends_at_once_with_an_error_event(self, status_server: StatusServer) -> None:
        status_server.script("vid-1", (401, {"code": 400112, "message": "Unauthorized"}))
        event = only_event(make_trigger())
        assert (event["status"], event["code"]) == ("error", 400112)
        assert "Unauthorized" in event["message"]
        assert len(status_server.polls()) == 1
        assert_no_key(event)

    def test_404_is_an_error_event(self, status_server: StatusServer) -> None:
        status_server.script("vid-1", (404, {"data": None, "error": {"code": "video_not_found", "message": "nope"}}))
        event = only_event(make_trigger())
        assert (event["status"], event["code"]) == ("error", "video_not_found")
        assert len(status_server.polls()) == 1

    def test_missing_connection_is_an_error_event(self, status_server: StatusServer) -> None:
        event = only_event(make_trigger(heygen_conn_id="no_such_heygen_conn"))
        assert event["status"] == "error"
        assert "no_such_heygen_conn" in event["message"]

    def test_a_200_without_status_data_never_crashes_the_trigger(self, status_server: StatusServer) -> None:
        status_server.script("vid-1", (200, {"code": 100, "data": None, "message": "Success"}))
        assert only_event(make_trigger(end_in=0.1, poll_interval=0.01))["status"] in ("error", "timeout")


class TestTransientFaults:
    @pytest.mark.parametrize(
        "fault",
        [
            pytest.param(
                (429, {"error": {"code": "rate_limited", "message": "slow down"}}, {"Retry-After": "0"}), id="429"
            ),
            pytest.param((500, {"code": 500, "message": "boom"}), id="500"),
            pytest.param((502, {"message": "bad gateway"}), id="502"),
            pytest.param((503, {"message": "unavailable"}), id="503"),
            pytest.param(RESET, id="connection-reset"),
        ],
    )
    def test_faults_are_survived_and_success_follows(self, status_server: StatusServer, fault: Any) -> None:
        # Six faults in a row outlast the hook's own five attempts, so the trigger's loop must carry on.
        status_server.script("vid-1", *[fault] * 6, (200, v3_video_body("vid-1", "completed")))
        event = only_event(make_trigger())
        assert event["status"] == "success"
        assert len(status_server.polls()) == 7

    # Legacy: the waits of a video polled alone; on v3 its cohort's own waits come in between.
    @pytest.mark.legacy
    def test_trigger_waits_at_least_retry_after(
        self, status_server: StatusServer, monkeypatch: pytest.MonkeyPatch, trigger_waits: list[float]
    ) -> None:
        # One attempt per call: the hook gives the 429 (and its Retry-After) straight to the trigger.
        monkeypatch.setenv(CONN_ENV, connection_json(host=status_server.url, retry_attempts=1))
        status_server.script(
            "vid-1",
            (429, {"message": "slow down"}, {"Retry-After": "0.25"}),
            (200, status_body("vid-1", "completed")),
        )
        assert only_event(make_trigger())["status"] == "success"
        assert trigger_waits == [0.0, 0.25]

    # Legacy: the waits of a video polled alone; on v3 its cohort's own waits come in between.
    @pytest.mark.legacy
    def test_a_huge_retry_after_is_capped_by_the_retry_policy(
        self, status_server: StatusServer, monkeypatch: pytest.MonkeyPatch, trigger_waits: list[float]
    ) -> None:
        from heygen_provider.triggers.heygen import POLL_RETRY_POLICY

        monkeypatch.setenv(CONN_ENV, connection_json(host=status_server.url, retry_attempts=1))
        status_server.script(
            "vid-1",
            (429, {"message": "slow down"}, {"Retry-After": "86400"}),
            (200, status_body("vid-1", "completed")),
        )
        # The render timeout is a day away: without the cap the trigger would sleep until it.
        assert only_event(make_trigger(end_in=2 * 86400))["status"] == "success"
        assert trigger_waits[1] == POLL_RETRY_POLICY.max_retry_after


class TestRunContract:
    @pytest.mark.parametrize(
        ("script", "poll_interval"),
        [pytest.param("processing", 0.01, id="sleeping"), pytest.param(HANG, 0.005, id="in-request")],
    )
    async def test_cancellation_is_never_swallowed(
        self, status_server: StatusServer, script: str, poll_interval: float
    ) -> None:
        status_server.script("vid-1", (200, v3_video_body("vid-1", "processing")) if script == "processing" else HANG)
        task = asyncio.create_task(collect_events(make_trigger(poll_interval=poll_interval)))
        try:
            while not status_server.polls():  # noqa: ASYNC110 (the server runs in another thread)
                await asyncio.sleep(0.005)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                # The bound only turns a swallowed cancellation (polling on) into a failure, not a hang.
                await asyncio.wait_for(asyncio.shield(task), 5)
            assert task.cancelled()
        finally:
            status_server.statuses("vid-1", "completed")  # lets a trigger that swallowed it end
            await asyncio.gather(task, return_exceptions=True)

    def test_connection_is_looked_up_asynchronously(
        self, status_server: StatusServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def sync_lookup(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("sync get_connection called inside the event loop")

        monkeypatch.setattr(HeyGenHook, "get_connection", sync_lookup)
        status_server.statuses("vid-1", "completed")
        assert only_event(make_trigger())["status"] == "success"

    def test_many_triggers_share_one_session(
        self, status_server: StatusServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import aiohttp

        created: list[Any] = []
        original = aiohttp.ClientSession

        def counting_session(*args: Any, **kwargs: Any) -> Any:
            created.append(original(*args, **kwargs))
            return created[-1]

        monkeypatch.setattr(aiohttp, "ClientSession", counting_session)
        ids = [f"vid-{n}" for n in range(20)]
        for video_id in ids:
            status_server.statuses(video_id, "processing", "completed")

        async def run_all() -> list[str]:
            batches = await asyncio.gather(*(collect_events(make_trigger(v)) for v in ids))
            return [e.payload["status"] for batch in batches for e in batch]

        assert asyncio.run(run_all()) == ["success"] * 20
        assert len(created) == 1
        assert len(status_server.polls()) == 40

    def test_event_loop_is_never_blocked(self, status_server: StatusServer, blocking_calls: list[str]) -> None:
        for n in range(10):
            status_server.script(
                f"vid-{n}",
                (200, v3_video_body(f"vid-{n}")),
                (503, {"message": "busy"}),
                (200, v3_video_body(f"vid-{n}", "completed")),
            )

        async def run_all() -> list[Any]:
            batches = await asyncio.gather(
                *(collect_events(make_trigger(f"vid-{n}", poll_interval=0.01)) for n in range(10))
            )
            return [event for batch in batches for event in batch]

        # The connection lookup, the polls, the back-off after the 503 and the log lines all ran on the
        # loop's thread without one blocking call.
        events = asyncio.run(run_all())
        assert [e.payload["status"] for e in events] == ["success"] * 10
        assert blocking_calls == []

    def test_the_guard_sees_blocking_calls_on_the_loop(
        self, status_server: StatusServer, blocking_calls: list[str]
    ) -> None:
        import requests

        async def block() -> None:
            # What the guard is for: the calls a trigger must never make.
            time.sleep(0)  # noqa: ASYNC251
            requests.get(  # noqa: ASYNC210
                f"{status_server.url}/missing", timeout=5
            )
            HeyGenHook().settings  # noqa: B018 - the synchronous connection lookup

        asyncio.run(block())
        assert {"time.sleep", "requests.Session.request", "socket.connect", "HeyGenHook.get_connection"} <= set(
            blocking_calls
        )


class TestResultOrRaise:
    SUCCESS: ClassVar[dict[str, Any]] = event("success")

    def test_success_returns_the_result(self) -> None:
        assert result_from_event(self.SUCCESS) == self.SUCCESS["result"]
        assert result_from_event(self.SUCCESS) == result_from_event(dict(self.SUCCESS))

    @pytest.mark.parametrize(("status", "code", "message"), UNSUCCESSFUL_EVENTS)
    def test_every_other_outcome_raises_with_code_and_message(self, status: str, code: Any, message: str) -> None:
        # A cancelled event still carries a result dict: it must not pass for success.
        unsuccessful = event(status, code, message)
        outcomes = []
        for _ in range(2):
            with pytest.raises(HeyGenRenderError) as caught:
                result_from_event(unsuccessful)
            outcomes.append((caught.value.status, caught.value.code, caught.value.message, str(caught.value)))
        assert outcomes[0] == outcomes[1]
        assert outcomes[0][:3] == (status, code, message)
        assert "vid-1" in outcomes[0][3]
