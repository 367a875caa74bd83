"""HeyGenHook's sync path at the HTTP boundary: auth, endpoints, envelopes, retries and failures."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import urllib3.exceptions

from heygen_provider.connection import UI_FIELD_BEHAVIOUR
from heygen_provider.exceptions import (
    HeyGenAuthenticationError,
    HeyGenRequestValidationError,
    HeyGenServerError,
    HeyGenTransportError,
)
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.models import (
    AvatarList,
    CreatedVideo,
    RemainingQuota,
    VideoGenerateRequest,
    VideoStatus,
    VideoStatusResponse,
    VoiceList,
)
from tests.fixtures.connections import API_KEY, BASE_URL
from tests.fixtures.scenes import scene

# The classes marked legacy assert the legacy paths, envelopes and keyless creates (the same calls on
# v3: test_hook_v3.py); the connection set-up and auth run on v3.
CREATE_URL = f"{BASE_URL}/v2/video/generate"
STATUS_URL = f"{BASE_URL}/v1/video_status.get"
QUOTA_URL = f"{BASE_URL}/v2/user/remaining_quota"
#: v3's account call, which the hook's credit look-up makes.
ACCOUNT_URL = f"{BASE_URL}/v3/users/me"
ACCOUNT = {"data": {"billing_type": "wallet", "wallet": {"remaining_balance": 60.0, "currency": "usd"}}}
REQUEST = {"video_inputs": [scene()]}
SERVER_ERROR = {"error": {"code": "internal_error", "message": "Something went wrong"}}


def v2(data: Any) -> dict[str, Any]:
    return {"error": None, "data": data}


def legacy(data: Any) -> dict[str, Any]:
    return {"code": 100, "data": data, "message": "Success"}


ENVELOPES = pytest.mark.parametrize("envelope", [v2, legacy], ids=["v2-envelope", "legacy-envelope"])


@pytest.fixture
def hook(define_connection: Callable[..., str], recorded_sleeps: list[float]) -> HeyGenHook:
    """A hook on ``heygen_default`` (https://api.heygen.com, the test key, default extras); sleeps recorded."""
    return HeyGenHook(define_connection())


def reset_by_peer() -> requests.ConnectionError:
    """What requests raises when the server drops the connection after the request was sent."""
    reason = urllib3.exceptions.ProtocolError(
        "Connection aborted.", ConnectionResetError(104, "Connection reset by peer")
    )
    return requests.ConnectionError(reason)


class TestAuthAndBaseUrl:
    def test_api_key_header_by_default(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.get(ACCOUNT_URL, json=ACCOUNT)
        hook.get_remaining_quota()
        headers = requests_mock.last_request.headers
        assert headers["X-Api-Key"] == API_KEY
        assert "Authorization" not in headers
        assert headers["Accept"] == "application/json"
        assert headers["User-Agent"].startswith("airflow-provider-heygen/")

    def test_bearer_header_for_oauth_tokens(self, define_connection: Callable[..., str], requests_mock: Any) -> None:
        requests_mock.get(ACCOUNT_URL, json=ACCOUNT)
        HeyGenHook(define_connection(auth_type="bearer")).get_remaining_quota()
        headers = requests_mock.last_request.headers
        assert headers["Authorization"] == f"Bearer {API_KEY}"
        assert "X-Api-Key" not in headers

    def test_base_url_and_conn_id_come_from_the_connection(
        self, define_connection: Callable[..., str], requests_mock: Any
    ) -> None:
        conn_id = define_connection(conn_id="heygen_gateway", host="gateway.example.com/heygen/")
        requests_mock.get("https://gateway.example.com/heygen/v3/users/me", json=ACCOUNT)
        HeyGenHook(conn_id).get_remaining_quota()
        assert requests_mock.call_count == 1

    def test_request_timeout_comes_from_the_connection(
        self, define_connection: Callable[..., str], requests_mock: Any
    ) -> None:
        requests_mock.get(ACCOUNT_URL, json=ACCOUNT)
        HeyGenHook(define_connection(request_timeout=45)).get_remaining_quota()
        assert requests_mock.last_request.timeout == (10.0, 45.0)  # connect capped, read as configured

    def test_one_pooled_session_serves_every_call(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.get(ACCOUNT_URL, json=ACCOUNT)
        session = hook.get_conn()
        hook.get_remaining_quota()
        hook.get_remaining_quota()
        assert hook.get_conn() is session
        assert isinstance(session, requests.Session)


@pytest.mark.legacy
class TestEndpoints:
    @ENVELOPES
    def test_create_video(self, hook: HeyGenHook, requests_mock: Any, envelope: Callable[[Any], Any]) -> None:
        requests_mock.post(CREATE_URL, json=envelope({"video_id": "v-1"}))
        created = hook.create_video(REQUEST)
        assert isinstance(created, CreatedVideo)
        assert created.video_id == "v-1"
        assert requests_mock.last_request.json() == VideoGenerateRequest.from_params(REQUEST).to_payload()

    def test_create_video_accepts_a_validated_request(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.post(CREATE_URL, json=v2({"video_id": "v-2"}))
        request = VideoGenerateRequest.from_params({**REQUEST, "dimension": "4K", "test": True})
        assert hook.create_video(request).video_id == "v-2"
        assert requests_mock.last_request.json()["dimension"] == {"width": 3840, "height": 2160}

    @ENVELOPES
    def test_get_video_status(self, hook: HeyGenHook, requests_mock: Any, envelope: Callable[[Any], Any]) -> None:
        requests_mock.get(
            STATUS_URL,
            json=envelope({"id": "v-1", "status": "completed", "video_url": "https://files.heygen.ai/v.mp4"}),
        )
        status = hook.get_video_status("v-1")
        assert isinstance(status, VideoStatusResponse)
        assert (status.status, status.video_url) == (VideoStatus.SUCCESS, "https://files.heygen.ai/v.mp4")
        assert requests_mock.last_request.qs == {"video_id": ["v-1"]}

    def test_status_without_an_id_gets_the_requested_one(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.get(STATUS_URL, json=legacy({"status": "processing"}))
        assert hook.get_video_status("v-7").video_id == "v-7"

    def test_v3_style_status_path(self, define_connection: Callable[..., str], requests_mock: Any) -> None:
        requests_mock.get(
            f"{BASE_URL}/v3/videos/v-3",
            json={"data": {"id": "v-3", "status": "failed", "failure_code": "X", "failure_message": "boom"}},
        )
        hook = HeyGenHook(define_connection(video_status_path="/v3/videos/{video_id}"))
        status = hook.get_video_status("v-3")
        assert status.status is VideoStatus.FAILED
        assert status.error is not None
        assert (status.error.code, status.error.message) == ("X", "boom")
        assert requests_mock.last_request.query == ""

    def test_v3_style_path_encodes_the_id(self, define_connection: Callable[..., str], requests_mock: Any) -> None:
        requests_mock.get(re.compile(r".*"), json={"data": {"id": "x", "status": "queued"}})
        hook = HeyGenHook(define_connection(video_status_path="/v3/videos/{video_id}"))
        hook.get_video_status("../../v2/user/remaining_quota?x=1")
        assert requests_mock.last_request.path == "/v3/videos/..%2f..%2fv2%2fuser%2fremaining_quota%3fx%3d1"

    @ENVELOPES
    def test_list_avatars(self, hook: HeyGenHook, requests_mock: Any, envelope: Callable[[Any], Any]) -> None:
        requests_mock.get(
            f"{BASE_URL}/v2/avatars",
            json=envelope(
                {
                    "avatars": [{"avatar_id": "a-1", "avatar_name": "Anna", "new_field": 1}],
                    "talking_photos": [{"talking_photo_id": "p-1"}],
                }
            ),
        )
        avatars = hook.list_avatars()
        assert isinstance(avatars, AvatarList)
        assert [a.avatar_id for a in avatars.avatars] == ["a-1"]
        assert [p.talking_photo_id for p in avatars.talking_photos] == ["p-1"]

    @ENVELOPES
    def test_list_voices(self, hook: HeyGenHook, requests_mock: Any, envelope: Callable[[Any], Any]) -> None:
        requests_mock.get(f"{BASE_URL}/v2/voices", json=envelope({"voices": [{"voice_id": "vo-1", "name": "Ben"}]}))
        voices = hook.list_voices()
        assert isinstance(voices, VoiceList)
        assert [(v.voice_id, v.name) for v in voices.voices] == [("vo-1", "Ben")]

    @ENVELOPES
    def test_remaining_quota(self, hook: HeyGenHook, requests_mock: Any, envelope: Callable[[Any], Any]) -> None:
        requests_mock.get(QUOTA_URL, json=envelope({"remaining_quota": 1500, "details": {"api": 1500}}))
        quota = hook.get_remaining_quota()
        assert isinstance(quota, RemainingQuota)
        assert (quota.remaining_quota, quota.remaining_credits) == (1500, 25)


class TestValidationBeforeHttp:
    def test_invalid_request_makes_no_http_call(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.post(CREATE_URL, json=v2({"video_id": "never"}))
        bad = {"video_inputs": [scene(voice={"speed": 3.0, "voice_idd": "x"})]}
        with pytest.raises(HeyGenRequestValidationError) as caught:
            hook.create_video(bad)
        assert requests_mock.call_count == 0
        assert "video_inputs[0].voice.speed: must be between 0.5 and 1.5 (got 3.0)" in caught.value.problems

    def test_invalid_connection_makes_no_http_call(
        self, define_connection: Callable[..., str], requests_mock: Any
    ) -> None:
        conn_id = define_connection(host="http://api.heygen.com")
        with pytest.raises(ValueError, match="uses http://"):
            HeyGenHook(conn_id).create_video(REQUEST)
        assert requests_mock.call_count == 0


@pytest.mark.legacy
class TestRetries:
    def test_429_on_post_is_retried_honouring_retry_after(
        self, hook: HeyGenHook, requests_mock: Any, recorded_sleeps: list[float]
    ) -> None:
        requests_mock.post(
            CREATE_URL,
            [
                {"status_code": 429, "headers": {"Retry-After": "7"}, "json": {"error": {"code": "rate_limited"}}},
                {"json": v2({"video_id": "v-1"})},
            ],
        )
        assert hook.create_video(REQUEST).video_id == "v-1"
        assert requests_mock.call_count == 2
        assert recorded_sleeps == [7.0]

    @pytest.mark.parametrize("status_code", [500, 502, 503, 504])
    def test_5xx_on_post_is_never_resent(
        self, hook: HeyGenHook, requests_mock: Any, recorded_sleeps: list[float], status_code: int
    ) -> None:
        requests_mock.post(
            CREATE_URL, [{"status_code": status_code, "json": SERVER_ERROR}, {"json": v2({"video_id": "dup"})}]
        )
        with pytest.raises(HeyGenServerError) as caught:
            hook.create_video(REQUEST)
        assert requests_mock.call_count == 1
        assert caught.value.http_status == status_code
        assert recorded_sleeps == []

    def test_503_on_get_is_retried(self, hook: HeyGenHook, requests_mock: Any, recorded_sleeps: list[float]) -> None:
        requests_mock.get(
            STATUS_URL, [{"status_code": 503, "text": "<html>busy</html>"}, {"json": v2({"status": "processing"})}]
        )
        assert hook.get_video_status("v-1").status is VideoStatus.PROCESSING
        assert requests_mock.call_count == 2
        assert len(recorded_sleeps) == 1
        assert 0.5 <= recorded_sleeps[0] <= 1.0  # the first back-off step, with jitter

    def test_connection_reset_on_post_is_never_resent(
        self, hook: HeyGenHook, requests_mock: Any, recorded_sleeps: list[float]
    ) -> None:
        requests_mock.post(CREATE_URL, [{"exc": reset_by_peer()}, {"json": v2({"video_id": "dup"})}])
        with pytest.raises(HeyGenTransportError) as caught:
            hook.create_video(REQUEST)
        assert requests_mock.call_count == 1
        assert caught.value.request_may_have_reached_server is True
        assert recorded_sleeps == []

    def test_connect_timeout_on_post_is_retried(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.post(CREATE_URL, [{"exc": requests.ConnectTimeout}, {"json": v2({"video_id": "v-1"})}])
        assert hook.create_video(REQUEST).video_id == "v-1"
        assert requests_mock.call_count == 2

    @pytest.mark.parametrize(
        "failure", [requests.ReadTimeout, reset_by_peer()], ids=["read-timeout", "connection-reset"]
    )
    def test_lost_answer_on_get_is_retried(self, hook: HeyGenHook, requests_mock: Any, failure: Any) -> None:
        requests_mock.get(STATUS_URL, [{"exc": failure}, {"json": v2({"id": "v-1", "status": "pending"})}])
        assert hook.get_video_status("v-1").status is VideoStatus.QUEUED
        assert requests_mock.call_count == 2

    def test_attempts_come_from_the_connection(
        self, define_connection: Callable[..., str], requests_mock: Any, recorded_sleeps: list[float]
    ) -> None:
        requests_mock.get(STATUS_URL, status_code=503, json=SERVER_ERROR)
        with pytest.raises(HeyGenServerError):
            HeyGenHook(define_connection(retry_attempts=3)).get_video_status("v-1")
        assert requests_mock.call_count == 3
        assert len(recorded_sleeps) == 2

    def test_auth_errors_are_never_retried(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.get(STATUS_URL, status_code=401, json={"code": 400112, "message": "Unauthorized"})
        with pytest.raises(HeyGenAuthenticationError, match=r"HTTP 401, code 400112\): Unauthorized"):
            hook.get_video_status("v-1")
        assert requests_mock.call_count == 1


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def dropping_server() -> Iterator[tuple[int, list[bytes]]]:
    """A loopback server that reads each request, then closes the connection without answering."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    received: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                received.append(connection.recv(65536))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1]), received
    with contextlib.suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
    listener.close()
    thread.join(timeout=5)


@pytest.mark.legacy
class TestRealLoopbackFailures:
    """The classification of real socket failures, not mocked exceptions."""

    def test_refused_connection_is_retried_even_for_post(
        self, define_connection: Callable[..., str], closed_port: int, recorded_sleeps: list[float]
    ) -> None:
        conn_id = define_connection(host=f"http://127.0.0.1:{closed_port}", retry_attempts=3)
        with pytest.raises(HeyGenTransportError) as caught:
            HeyGenHook(conn_id).create_video(REQUEST)
        assert caught.value.request_may_have_reached_server is False
        assert len(recorded_sleeps) == 2
        assert "after 3 attempt(s)" in str(caught.value)

    def test_dropped_connection_after_a_post_is_not_resent(
        self,
        define_connection: Callable[..., str],
        dropping_server: tuple[int, list[bytes]],
        recorded_sleeps: list[float],
    ) -> None:
        port, received = dropping_server
        conn_id = define_connection(host=f"http://127.0.0.1:{port}")
        with pytest.raises(HeyGenTransportError) as caught:
            HeyGenHook(conn_id).create_video(REQUEST)
        assert caught.value.request_may_have_reached_server is True
        assert [request.split(b" ", 2)[:2] for request in received] == [[b"POST", b"/v2/video/generate"]]
        assert recorded_sleeps == []
        assert API_KEY not in str(caught.value)


@pytest.mark.legacy
class TestSecrets:
    def test_key_echoed_by_heygen_never_reaches_the_message(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.get(STATUS_URL, status_code=401, json={"code": 400112, "message": f"Bad key {API_KEY}"})
        with pytest.raises(HeyGenAuthenticationError) as caught:
            hook.get_video_status("v-1")
        assert API_KEY not in str(caught.value)
        assert "Bad key ***" in str(caught.value)

    def test_test_connection_message_never_contains_the_key(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.get(QUOTA_URL, status_code=403, text=f"<title>Forbidden for {API_KEY}</title>")
        ok, message = hook.test_connection()
        assert ok is False
        assert API_KEY not in message


@pytest.mark.legacy
class TestTestConnection:
    def test_success(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.get(QUOTA_URL, json=v2({"remaining_quota": 600}))
        assert hook.test_connection() == (True, "Connected to HeyGen (legacy): 10 credits remaining")
        assert requests_mock.call_count == 1

    def test_rejected_key(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.get(QUOTA_URL, status_code=401, json={"code": 400112, "message": "Unauthorized"})
        assert hook.test_connection() == (False, "HeyGen API error (HTTP 401, code 400112): Unauthorized")

    def test_network_failure(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.get(QUOTA_URL, exc=requests.ConnectTimeout("timed out"))
        ok, message = hook.test_connection()
        assert ok is False
        assert message == "GET request to HeyGen failed: ConnectTimeout: timed out after 5 attempt(s)"

    @pytest.mark.parametrize(
        ("fields", "fragment"),
        [
            ({"host": "http://api.heygen.com"}, "uses http://"),
            ({"password": ""}, "the API key is missing"),
            ({"retry_attempts": 0}, "must be between 1 and 10"),
        ],
        ids=["plain-http", "no-key", "bad-extra"],
    )
    def test_invalid_connection(
        self, define_connection: Callable[..., str], requests_mock: Any, fields: dict[str, Any], fragment: str
    ) -> None:
        ok, message = HeyGenHook(define_connection(**fields)).test_connection()
        assert ok is False
        assert fragment in message
        assert requests_mock.call_count == 0

    def test_port_zero_as_airflows_test_button_sends_it(
        self, monkeypatch: pytest.MonkeyPatch, requests_mock: Any, recorded_sleeps: list[float]
    ) -> None:
        # Airflow 3.3.2's UI sends port 0 for a connection with no port (JavaScript's Number(null)); its
        # test route builds a Connection from the body and hands the hook that connection's URI.
        from airflow.models.connection import Connection

        tested = Connection(
            conn_id="heygen_tested",
            conn_type="heygen",
            host=BASE_URL,
            port=0,
            password=API_KEY,
            extra=json.dumps({"api_version": "legacy"}),
        )
        monkeypatch.setenv("AIRFLOW_CONN_HEYGEN_TESTED", tested.get_uri())
        requests_mock.get(QUOTA_URL, json=v2({"remaining_quota": 60}))
        assert HeyGenHook("heygen_tested").test_connection() == (
            True,
            "Connected to HeyGen (legacy): 1 credit remaining",
        )
        assert requests_mock.last_request.url == QUOTA_URL

    def test_undefined_connection(self, requests_mock: Any) -> None:
        ok, message = HeyGenHook("heygen_nowhere").test_connection()
        assert ok is False
        assert "heygen_nowhere" in message


class TestUiFieldBehaviour:
    def test_underscored_form_of_the_declarative_behaviour(self) -> None:
        behaviour = HeyGenHook.get_ui_field_behaviour()
        assert behaviour == {key.replace("-", "_"): value for key, value in UI_FIELD_BEHAVIOUR.items()}

    def test_form_hides_unused_fields_and_labels_the_key(self) -> None:
        behaviour = HeyGenHook.get_ui_field_behaviour()
        assert set(behaviour["hidden_fields"]) == {"port", "login", "schema"}
        assert behaviour["relabeling"] == {"host": "Base URL", "password": "API key"}
        assert json.loads(behaviour["placeholders"]["extra"]) == {"api_version": "v3", "request_timeout": 30.0}

    def test_hook_identity(self) -> None:
        assert (HeyGenHook.conn_type, HeyGenHook.default_conn_name, HeyGenHook.conn_name_attr) == (
            "heygen",
            "heygen_default",
            "heygen_conn_id",
        )
