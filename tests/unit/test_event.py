"""
VideoEvent: one typed event from the trigger to the task, and the same exception class in every mode.

The defect this guards against: a bad key raised ``HeyGenAuthenticationError`` in a sensor poke but
``HeyGenRenderError(status="error")`` after a deferral, so a user's ``except`` clause worked in one
mode only.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from heygen_provider._compat import AirflowFailException, AirflowNotFoundException
from heygen_provider.exceptions import (
    HeyGenAuthenticationError,
    HeyGenConnectionError,
    HeyGenError,
    HeyGenNotFoundError,
    HeyGenRenderError,
    HeyGenRenderRejectedError,
    HeyGenRenderTimeoutError,
    is_retryable,
)
from heygen_provider.models.event import VideoEvent
from heygen_provider.models.status import VideoStatusResponse
from heygen_provider.sensors.heygen import HeyGenVideoSensor
from heygen_provider.triggers.heygen import HeyGenVideoStatusTrigger
from tests.fixtures.answers import status_body
from tests.fixtures.connections import CONN_ENV, connection_json
from tests.fixtures.loopback import StatusServer
from tests.fixtures.operators import FakeTI
from tests.fixtures.triggers import run_trigger_to_events

pytestmark = pytest.mark.usefixtures("no_jitter")


def deferred_event(video_id: str = "vid-1") -> dict[str, Any]:
    """The payload the real trigger yields, JSON round-tripped as the triggerer stores it."""
    trigger = HeyGenVideoStatusTrigger(video_id=video_id, poll_interval=0.005, end_time=time.time() + 60)
    (event,) = run_trigger_to_events(trigger)
    return json.loads(json.dumps(event.payload))  # type: ignore[no-any-return]


def sensor() -> HeyGenVideoSensor:
    return HeyGenVideoSensor(task_id="wait", video_id="vid-1", poke_interval=1, timeout=60, deferrable=False)


def raised_by_poke() -> BaseException:
    """What a poke raises: the worker's sync hook asks the same loopback server the trigger asked."""
    with pytest.raises(Exception) as caught:
        sensor().poke({"ti": FakeTI(task_id="wait")})
    return caught.value


def raised_after_deferral(event: dict[str, Any]) -> BaseException:
    with pytest.raises(Exception) as caught:
        sensor().execute_complete({"ti": FakeTI(task_id="wait")}, event)
    return caught.value


class TestSameClassInEveryMode:
    @pytest.mark.parametrize(
        ("status_code", "body", "error_class"),
        [
            (401, {"code": 400112, "message": "Unauthorized"}, HeyGenAuthenticationError),
            (403, {"error": {"code": "forbidden", "message": "No access"}}, HeyGenAuthenticationError),
            (404, {"code": 404, "message": "unknown video"}, HeyGenNotFoundError),
        ],
        ids=["401", "403", "404"],
    )
    def test_a_refused_status_call(
        self,
        status_server: StatusServer,
        status_code: int,
        body: dict[str, Any],
        error_class: type[HeyGenError],
    ) -> None:
        status_server.script("vid-1", (status_code, body))
        after_deferral = raised_after_deferral(deferred_event())
        poked = raised_by_poke()

        assert type(poked) is error_class
        assert type(after_deferral) is error_class
        assert str(after_deferral) == str(poked)
        assert after_deferral.http_status == poked.http_status == status_code  # type: ignore[attr-defined]

    def test_a_render_that_failed_for_a_reason_that_repeats(self, status_server: StatusServer) -> None:
        error = {"code": 40119, "message": "Video is too long for your plan"}
        status_server.script("vid-1", (200, status_body("vid-1", "failed", error=error)))
        after_deferral = raised_after_deferral(deferred_event())
        poked = raised_by_poke()

        assert type(poked) is type(after_deferral) is HeyGenRenderRejectedError
        assert str(after_deferral) == str(poked)
        assert isinstance(after_deferral, AirflowFailException)

    def test_a_broken_connection(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(CONN_ENV, connection_json(host="http://api.heygen.com"))  # plain http to a remote host
        after_deferral = raised_after_deferral(deferred_event())
        poked = raised_by_poke()
        assert type(poked) is type(after_deferral) is HeyGenConnectionError
        assert str(after_deferral) == str(poked)

    def test_a_missing_connection(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(CONN_ENV, raising=False)
        trigger = HeyGenVideoStatusTrigger(
            video_id="vid-1", heygen_conn_id="heygen_missing", poll_interval=0.005, end_time=time.time() + 60
        )
        (event,) = run_trigger_to_events(trigger)
        with pytest.raises(AirflowNotFoundException):
            VideoEvent.from_payload(event.payload).result_or_raise()


class TestPayload:
    def test_round_trip(self) -> None:
        event = VideoEvent.from_error("vid-9", HeyGenAuthenticationError("Unauthorized", status_code=401, code=400112))
        payload = json.loads(json.dumps(event.to_payload()))
        assert VideoEvent.from_payload(payload) == event

    def test_the_message_is_not_prefixed_twice(self) -> None:
        error = HeyGenAuthenticationError("Unauthorized", status_code=401, code=400112)
        with pytest.raises(HeyGenAuthenticationError) as caught:
            VideoEvent.from_error("vid-1", error).result_or_raise()
        assert str(caught.value) == str(error) == "HeyGen API error (HTTP 401, code 400112): Unauthorized"

    def test_an_error_event_from_an_older_trigger_still_raises_a_render_error(self) -> None:
        old = {"status": "error", "video_id": "vid-1", "code": 400112, "message": "Unauthorized", "result": None}
        with pytest.raises(HeyGenRenderError) as caught:
            VideoEvent.from_payload(old).result_or_raise()
        assert (caught.value.status, caught.value.code) == ("error", 400112)

    @pytest.mark.parametrize(
        "payload",
        [
            {},
            {"status": "success", "video_id": "vid-1", "result": "not a dict"},
            {"status": "error", "video_id": "vid-1", "error_class": "os.system", "code": {"odd": 1}},
        ],
        ids=["empty", "result-not-a-dict", "unknown-class"],
    )
    def test_odd_payloads_never_pass_for_success_nor_import_anything(self, payload: dict[str, Any]) -> None:
        with pytest.raises(HeyGenError):
            VideoEvent.from_payload(payload).result_or_raise()

    def test_cancelled_is_never_success_even_with_a_result(self) -> None:
        status = VideoStatusResponse.model_validate({"id": "vid-1", "status": "cancelled"})
        with pytest.raises(HeyGenRenderError) as caught:
            VideoEvent.from_status(status).result_or_raise()
        assert caught.value.status == "cancelled"


class TestRetryableByClass:
    @pytest.mark.parametrize(
        ("code", "error_class", "retryable"),
        [
            (40119, HeyGenRenderRejectedError, False),
            ("MOVIO_PAYMENT_INSUFFICIENT_CREDIT", HeyGenRenderRejectedError, False),
            ("internal_error", HeyGenRenderError, True),
            (None, HeyGenRenderError, True),
        ],
    )
    def test_failed_renders(self, code: Any, error_class: type[HeyGenRenderError], retryable: bool) -> None:
        status = VideoStatusResponse.model_validate(
            {"id": "vid-1", "status": "failed", "error": None if code is None else {"code": code, "message": "x"}}
        )
        with pytest.raises(HeyGenRenderError) as caught:
            VideoEvent.from_status(status).result_or_raise()
        assert type(caught.value) is error_class
        assert is_retryable(caught.value) is retryable

    def test_a_failure_without_a_reason_names_the_video_and_says_so(self) -> None:
        status = VideoStatusResponse.model_validate({"id": "vid-7", "status": "failed"})
        with pytest.raises(HeyGenRenderError, match=r"vid-7 failed: HeyGen gave no reason"):
            VideoEvent.from_status(status).result_or_raise()

    def test_a_timeout(self) -> None:
        with pytest.raises(HeyGenRenderTimeoutError) as caught:
            VideoEvent.timeout("vid-1", "the render did not finish").result_or_raise()
        assert is_retryable(caught.value)
