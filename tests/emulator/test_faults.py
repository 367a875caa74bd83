"""Every fault, queued through the admin API (Python client) or triggered by magic values."""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime

import httpx
import pytest

from heygen_provider.testing.emulator import FAULT_NAMES, UNKNOWN_STATUS_VALUE, EmulatorAdminError, HeyGenEmulator

from .helpers import GENERATE, STATUS, create_video, status_of, video_body

REPLACING = {
    "unauthorized": (401, {"code": 400112, "message": "Unauthorized"}),
    "forbidden": (403, {"data": None, "error": {"code": "permission_denied"}}),
    "not_found": (404, {"code": 404, "data": None}),
    "payment_required": (402, {"error": {"code": "insufficient_credit"}}),
    "server_error": (500, {"data": None, "error": {"code": "internal_error"}}),
    "bad_gateway": (502, {"error": "Bad Gateway"}),
    "service_unavailable": (503, {"data": None, "error": {"code": "service_unavailable"}}),
    "gateway_timeout": (504, {"error": "Gateway Timeout"}),
}


def contains(actual: object, expected: object) -> bool:
    """Whether ``expected`` is a sub-structure of ``actual`` (dicts may hold more keys)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and contains(actual[key], value) for key, value in expected.items()
        )
    return actual == expected


@pytest.mark.parametrize(("fault", "expected"), list(REPLACING.items()), ids=list(REPLACING))
def test_http_faults_answer_once_then_the_service_recovers(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, fault: str, expected: tuple[int, dict[str, object]]
) -> None:
    video_id = create_video(api)
    heygen_emulator.add_fault(fault, method="GET", path=STATUS)
    faulted = api.get(STATUS, params={"video_id": video_id})
    assert faulted.status_code == expected[0]
    assert contains(faulted.json(), expected[1]), faulted.text
    assert api.get(STATUS, params={"video_id": video_id}).status_code == 200
    assert heygen_emulator.faults() == []


def test_rate_limit_sends_retry_after_in_seconds(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.add_fault("rate_limited", path=GENERATE, retry_after_seconds=7)
    answer = api.post(GENERATE, json=video_body())
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "7"
    assert answer.json()["error"]["code"] == "rate_limit_exceeded"
    # A refused POST did no work: no video was created.
    assert heygen_emulator.videos() == []


def test_rate_limit_can_send_retry_after_as_an_http_date(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.add_fault("rate_limited_http_date", retry_after_seconds=120)
    answer = api.get("/v2/voices")
    assert answer.status_code == 429
    retry_at = parsedate_to_datetime(answer.headers["Retry-After"]).timestamp()
    answered_at = parsedate_to_datetime(answer.headers["Date"]).timestamp()
    assert 110 <= retry_at - answered_at <= 130


def test_html_proxy_page_is_not_json(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.add_fault("html_error_page")
    answer = api.get("/v2/avatars")
    assert answer.status_code == 502
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.text.lstrip().startswith("<!DOCTYPE html>")


def test_truncated_json_keeps_a_consistent_length_but_does_not_parse(
    heygen_emulator: HeyGenEmulator, api: httpx.Client
) -> None:
    video_id = create_video(api)
    heygen_emulator.add_fault("truncated_json", path=STATUS)
    answer = api.get(STATUS, params={"video_id": video_id})
    assert answer.status_code == 200
    assert int(answer.headers["Content-Length"]) == len(answer.content) > 0
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)


def test_empty_body(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.add_fault("empty_body")
    answer = api.get("/v2/voices")
    assert (answer.status_code, answer.content) == (200, b"")


def test_unknown_status_value(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    video_id = create_video(api)
    heygen_emulator.add_fault("unknown_status", path=STATUS, count=2)
    assert status_of(api, video_id)["status"] == UNKNOWN_STATUS_VALUE
    assert status_of(api, video_id)["status"] == UNKNOWN_STATUS_VALUE
    assert status_of(api, video_id)["status"] == "completed"


def test_numeric_video_id_answers_a_number_after_creating_the_video(
    heygen_emulator: HeyGenEmulator, api: httpx.Client
) -> None:
    heygen_emulator.add_fault("numeric_video_id", method="POST")
    answer = api.post(GENERATE, json=video_body())
    assert answer.status_code == 200
    assert answer.json()["data"]["video_id"] == 1234567
    [video] = heygen_emulator.videos()
    assert isinstance(video["video_id"], str) and video["video_id"] != "1234567"
    assert isinstance(create_video(api), str), "the fault was used up by one request"


def test_dropped_connection_sends_no_response(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.add_fault("drop", path="/v2/voices")
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/v2/voices")
    assert api.get("/v2/voices").status_code == 200
    dropped = heygen_emulator.requests(path="/v2/voices")[0]
    assert (dropped.status, dropped.fault) == (None, "drop")


def test_reset_connection(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.add_fault("reset", path="/v2/voices")
    with pytest.raises(httpx.TransportError):
        api.get("/v2/voices")
    assert api.get("/v2/voices").status_code == 200


def test_slow_answer_outlasts_a_short_client_timeout(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.add_fault("slow", path="/v2/voices", delay_seconds=0.5, count=2)
    with pytest.raises(httpx.ReadTimeout):
        api.get("/v2/voices", timeout=0.05)
    # A patient client gets the normal answer after the delay.
    patient = api.get("/v2/voices", timeout=10)
    assert patient.status_code == 200 and patient.json()["data"]["voices"]


def test_fault_after_processing_creates_the_video_the_client_never_hears_of(
    heygen_emulator: HeyGenEmulator, api: httpx.Client
) -> None:
    heygen_emulator.add_fault("gateway_timeout", method="POST", path=GENERATE, process=True)
    answer = api.post(GENERATE, json=video_body())
    assert answer.status_code == 504
    videos = heygen_emulator.videos()
    assert len(videos) == 1
    assert heygen_emulator.requests(method="POST")[0].video_id == videos[0]["video_id"]


def test_count_none_faults_every_match_until_cleared(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.add_fault("server_error", path="/v2/*", count=None)
    assert [api.get(path).status_code for path in ("/v2/voices", "/v2/avatars", "/v1/user/me")] == [500, 500, 200]
    assert len(heygen_emulator.faults()) == 1
    heygen_emulator.clear_faults()
    assert api.get("/v2/voices").status_code == 200


def test_rules_match_method_and_fire_in_order(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.add_fault("service_unavailable", method="POST")
    heygen_emulator.add_fault("server_error", method="GET")
    assert api.get("/v2/voices").status_code == 500
    assert api.post(GENERATE, json=video_body()).status_code == 503
    assert api.post(GENERATE, json=video_body()).status_code == 200


RENDER_FAULTS = {
    "render_failed": ("failed", 40119),
    "render_failed_credit": ("failed", "MOVIO_PAYMENT_INSUFFICIENT_CREDIT"),
    "render_completed_with_error": ("completed", "MOVIO_PAYMENT_INSUFFICIENT_CREDIT"),
}


@pytest.mark.parametrize(("fault", "expected"), list(RENDER_FAULTS.items()), ids=list(RENDER_FAULTS))
def test_render_outcome_faults_apply_to_the_next_created_video(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, fault: str, expected: tuple[str, object]
) -> None:
    heygen_emulator.add_fault(fault)
    # The rule only matches creation requests, so this status poll does not use it up.
    assert api.get("/v2/voices").status_code == 200
    faulted, normal = create_video(api), create_video(api)
    data = status_of(api, faulted)
    assert (data["status"], data["error"]["code"]) == expected
    assert data["error"]["message"] and data["error"]["detail"]
    assert status_of(api, normal)["error"] is None


def test_stuck_and_unknown_renders_never_finish(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    heygen_emulator.add_fault("render_stuck")
    heygen_emulator.add_fault("render_unknown_status")
    stuck, unknown = create_video(api), create_video(api)
    heygen_emulator.advance_time(10 * 24 * 3600)
    assert status_of(api, stuck)["status"] == "processing"
    assert status_of(api, unknown)["status"] == UNKNOWN_STATUS_VALUE


@pytest.mark.parametrize(
    ("marker", "status", "code"),
    [
        ("emulator:fail", "failed", 40119),
        ("emulator:fail-credit", "failed", "MOVIO_PAYMENT_INSUFFICIENT_CREDIT"),
        ("emulator:completed-with-error", "completed", "MOVIO_PAYMENT_INSUFFICIENT_CREDIT"),
    ],
)
def test_magic_values_in_title_or_callback_id(api: httpx.Client, marker: str, status: str, code: object) -> None:
    for field in ("title", "callback_id"):
        data = status_of(api, create_video(api, **{field: f"Weekly report {marker}"}))
        assert (data["status"], data["error"]["code"]) == (status, code)


def test_magic_poll_fault_hits_the_first_polls_of_that_video(api: httpx.Client) -> None:
    video_id = create_video(api, title="emulator:poll=service_unavailable*2")
    other = create_video(api)
    assert api.get(STATUS, params={"video_id": other}).status_code == 200
    codes = [api.get(STATUS, params={"video_id": video_id}).status_code for _ in range(3)]
    assert codes == [503, 503, 200]


def test_magic_create_fault_answers_every_attempt(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    body = video_body(title="emulator:rate_limited")
    assert [api.post(GENERATE, json=body).status_code for _ in range(2)] == [429, 429]
    assert heygen_emulator.videos() == []


def test_magic_render_seconds(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    video_id = create_video(api, callback_id="emulator:render-seconds=30")
    assert status_of(api, video_id)["status"] == "processing"
    heygen_emulator.advance_time(31)
    assert status_of(api, video_id)["status"] == "completed"


def test_admin_api_refuses_unknown_faults(heygen_emulator: HeyGenEmulator) -> None:
    with pytest.raises(EmulatorAdminError, match="unknown fault"):
        heygen_emulator.add_fault("meteor_strike")
    with pytest.raises(EmulatorAdminError, match="count"):
        heygen_emulator.add_fault("drop", count=0)


def test_every_fault_name_is_listed_by_the_admin_api(anonymous: httpx.Client) -> None:
    listed = anonymous.get("/_emulator/faults").json()
    assert listed["faults"] == []
    assert tuple(listed["names"]) == FAULT_NAMES


def test_admin_http_api_queues_faults_without_python(anonymous: httpx.Client, api: httpx.Client) -> None:
    queued = anonymous.post("/_emulator/faults", json={"fault": "forbidden", "path": "/v2/avatars"})
    assert queued.status_code == 200 and queued.json()["fault"]["remaining"] == 1
    assert api.get("/v2/avatars").status_code == 403
    assert anonymous.post("/_emulator/faults", json={"path": "/x"}).status_code == 400
    assert anonymous.get("/_emulator/nothing").status_code == 404
