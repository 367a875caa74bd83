"""HeyGenVideoSensor: poke, deferral and resume, with the sync hook mocked by requests-mock."""

from __future__ import annotations

import time
from typing import Any

import pytest
from airflow.sdk import PokeReturnValue

from heygen_provider._compat import AirflowSensorTimeout, AirflowSkipException
from heygen_provider.exceptions import HeyGenNotFoundError, HeyGenRenderError
from heygen_provider.sensors.heygen import HeyGenVideoSensor
from heygen_provider.triggers.heygen import HeyGenVideoStatusTrigger
from tests.fixtures.answers import UNSUCCESSFUL_EVENTS, event, status_body, v3_video_body
from tests.fixtures.connections import BASE_URL
from tests.fixtures.operators import STATUS_PATH, FakeTI

try:
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:  # Airflow 3.1
    from airflow.exceptions import TaskDeferred  # type: ignore[no-redef,attr-defined,unused-ignore]

STATUS_URL = f"{BASE_URL}/v3/videos/vid-1"
pytestmark = pytest.mark.usefixtures("heygen_conn")


def make_sensor(**kwargs: Any) -> HeyGenVideoSensor:
    kwargs.setdefault("poke_interval", 15)
    kwargs.setdefault("timeout", 1200)
    return HeyGenVideoSensor(task_id="wait", video_id="vid-1", **kwargs)


@pytest.fixture
def context() -> dict[str, Any]:
    return {"ti": FakeTI(task_id="wait")}


def answer(requests_mock: Any, *entries: Any) -> None:
    """Each entry: a status value, or a ``(http_status, json)`` pair."""
    requests_mock.get(
        STATUS_URL,
        [
            {"json": v3_video_body("vid-1", e)} if isinstance(e, str) else {"status_code": e[0], "json": e[1]}
            for e in entries
        ],
    )


class TestPoke:
    @pytest.mark.parametrize("status", ["pending", "waiting", "processing", "something_new"])
    def test_not_done_while_rendering(self, requests_mock: Any, context: dict[str, Any], status: str) -> None:
        answer(requests_mock, status)
        assert make_sensor().poke(context) is False
        assert requests_mock.call_count == 1

    def test_completed_returns_the_operators_result(self, requests_mock: Any, context: dict[str, Any]) -> None:
        answer(requests_mock, "completed")
        done = make_sensor().poke(context)
        assert isinstance(done, PokeReturnValue)
        assert done.is_done
        assert done.xcom_value["video_id"] == "vid-1"
        for key in ("status", "video_url", "thumbnail_url", "gif_url", "caption_url", "duration", "callback_id"):
            assert key in done.xcom_value
        assert (done.xcom_value["status"], done.xcom_value["caption_url"]) == (
            "success",
            "https://files.heygen.ai/vid-1.srt",
        )

    @pytest.mark.legacy
    def test_a_legacy_status_gives_its_callback_id(self, requests_mock: Any, context: dict[str, Any]) -> None:
        requests_mock.get(f"{BASE_URL}{STATUS_PATH}?video_id=vid-1", json=status_body("vid-1", "completed"))
        done = make_sensor().poke(context)
        assert isinstance(done, PokeReturnValue)
        assert (done.xcom_value["status"], done.xcom_value["callback_id"]) == ("success", "cb-7")

    def test_failed_raises_with_heygens_code(self, requests_mock: Any, context: dict[str, Any]) -> None:
        body = v3_video_body(
            "vid-1", "failed", failure_code="MOVIO_PAYMENT_INSUFFICIENT_CREDIT", failure_message="Insufficient credit"
        )
        requests_mock.get(STATUS_URL, json=body)
        with pytest.raises(HeyGenRenderError) as caught:
            make_sensor().poke(context)
        assert (caught.value.code, caught.value.message) == ("MOVIO_PAYMENT_INSUFFICIENT_CREDIT", "Insufficient credit")

    def test_failed_with_soft_fail_skips(self, requests_mock: Any, context: dict[str, Any]) -> None:
        answer(requests_mock, "failed")
        with pytest.raises(AirflowSkipException):
            make_sensor(soft_fail=True).poke(context)

    @pytest.mark.parametrize(
        "fault",
        [
            (429, {"error": {"code": "rate_limited", "message": "slow down"}}),
            (500, {"error": {"code": "internal_error", "message": "boom"}}),
            (502, {"error": {"code": "bad_gateway", "message": "bad gateway"}}),
            (503, {"error": {"code": "unavailable", "message": "unavailable"}}),
        ],
        ids=["429", "500", "502", "503"],
    )
    def test_transient_faults_mean_poke_again(
        self, requests_mock: Any, context: dict[str, Any], fault: tuple[int, Any]
    ) -> None:
        answer(requests_mock, fault)
        assert make_sensor().poke(context) is False
        assert requests_mock.call_count == 5  # the hook's own attempts, then the sensor pokes again later

    def test_unknown_video_fails(self, requests_mock: Any, context: dict[str, Any]) -> None:
        answer(requests_mock, (404, {"error": {"code": "video_not_found", "message": "Video vid-1 not found"}}))
        with pytest.raises(HeyGenNotFoundError):
            make_sensor().poke(context)

    def test_a_completed_video_without_a_url_is_asked_again_then_fails_clearly(
        self, requests_mock: Any, context: dict[str, Any]
    ) -> None:
        from heygen_provider.exceptions import HeyGenMalformedResponseError
        from heygen_provider.models.status import VIDEO_URL_CHECKS

        body = v3_video_body("vid-1", "completed")
        body["data"]["video_url"] = None
        requests_mock.get(STATUS_URL, json=body)
        sensor = make_sensor()
        for _ in range(VIDEO_URL_CHECKS - 1):
            assert sensor.poke(context) is False
        with pytest.raises(HeyGenMalformedResponseError, match="vid-1 completed but gave no video_url"):
            sensor.poke(context)
        assert requests_mock.call_count == VIDEO_URL_CHECKS

    def test_a_url_on_a_later_poke_is_a_success(self, requests_mock: Any, context: dict[str, Any]) -> None:
        without_url = v3_video_body("vid-1", "completed")
        without_url["data"]["video_url"] = None
        requests_mock.get(STATUS_URL, [{"json": without_url}, {"json": v3_video_body("vid-1", "completed")}])
        sensor = make_sensor()
        assert sensor.poke(context) is False
        done = sensor.poke(context)
        assert isinstance(done, PokeReturnValue) and done.xcom_value["video_url"]

    def test_video_id_is_templated(self) -> None:
        assert "video_id" in HeyGenVideoSensor.template_fields


class TestDeferrable:
    def test_defers_to_the_status_trigger_after_one_poke(self, requests_mock: Any, context: dict[str, Any]) -> None:
        answer(requests_mock, "processing")
        before = time.time()
        with pytest.raises(TaskDeferred) as caught:
            make_sensor(deferrable=True, poke_interval=15, timeout=1200, heygen_conn_id="heygen_default").execute(
                context
            )
        after = time.time()
        trigger = caught.value.trigger
        assert isinstance(trigger, HeyGenVideoStatusTrigger)
        assert caught.value.method_name == "execute_complete"
        assert (trigger.video_id, trigger.heygen_conn_id, trigger.poll_interval) == ("vid-1", "heygen_default", 15.0)
        assert trigger.end_time is not None
        assert before + 1200 <= trigger.end_time <= after + 1200
        assert requests_mock.call_count == 1

    def test_already_completed_needs_no_trigger(self, requests_mock: Any, context: dict[str, Any]) -> None:
        answer(requests_mock, "completed")
        result = make_sensor(deferrable=True).execute(context)
        assert (result["video_id"], result["status"]) == ("vid-1", "success")

    def test_resume_success_is_idempotent(self, context: dict[str, Any]) -> None:
        sensor = make_sensor(deferrable=True)
        success = event("success")
        assert sensor.execute_complete(context, success) == sensor.execute_complete(context, success)
        assert success["result"].items() <= sensor.execute_complete(context, success).items()

    @pytest.mark.parametrize(("status", "code", "message"), [e for e in UNSUCCESSFUL_EVENTS if e[0] != "timeout"])
    def test_resume_mirrors_poke_for_unsuccessful_renders(
        self, context: dict[str, Any], status: str, code: Any, message: str
    ) -> None:
        with pytest.raises(HeyGenRenderError) as caught:
            make_sensor(deferrable=True).execute_complete(context, event(status, code, message))
        assert (caught.value.status, caught.value.code, caught.value.message) == (status, code, message)
        with pytest.raises(AirflowSkipException):
            make_sensor(deferrable=True, soft_fail=True).execute_complete(context, event(status, code, message))

    def test_timeout_event_is_a_sensor_timeout(self, context: dict[str, Any]) -> None:
        timeout = event("timeout", None, "the render did not finish before its render timeout")
        with pytest.raises(AirflowSensorTimeout, match="render timeout"):
            make_sensor(deferrable=True).execute_complete(context, timeout)
        with pytest.raises(AirflowSkipException):
            make_sensor(deferrable=True, soft_fail=True).execute_complete(context, timeout)
