"""HeyGenHook on HeyGen's v3 API (the default), at the HTTP boundary with requests-mock."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from heygen_provider.exceptions import (
    HeyGenLegacyApiRetiredError,
    HeyGenMalformedResponseError,
    HeyGenNotFoundError,
    HeyGenRequestValidationError,
    HeyGenServerError,
    HeyGenTransportError,
)
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.models import VideoStatus
from heygen_provider.retry import RetryPolicy
from tests.fixtures.connections import API_KEY, BASE_URL
from tests.fixtures.scenes import scene

SCENE = scene("Hello.")
CREATED = {"data": {"video_id": "vid-3", "status": "waiting", "output_format": "mp4"}}
KEY = "airflow-heygen:abc123"
QUICK = RetryPolicy(attempts=4, initial_delay=0.0, max_delay=0.0)


@pytest.fixture
def v3(define_connection: Callable[..., str]) -> str:
    """A connection without ``api_version``: the default, v3."""
    return define_connection()


@pytest.fixture
def hook(v3: str, recorded_sleeps: list[float]) -> HeyGenHook:
    return HeyGenHook(v3, retry_policy=QUICK)


def bodies(requests_mock: Any) -> list[Any]:
    return [json.loads(request.body) for request in requests_mock.request_history if request.body]


class TestCreate:
    def test_posts_the_v3_body_with_the_key_and_its_own_timeout(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.post(f"{BASE_URL}/v3/videos", json=CREATED)
        created = hook.create_video({"video_inputs": [SCENE], "title": "T"}, idempotency_key=KEY)
        assert created.video_id == "vid-3"
        sent = requests_mock.last_request
        assert sent.headers["Idempotency-Key"] == KEY
        assert sent.headers["X-Api-Key"] == API_KEY
        assert sent.timeout == (10.0, 60.0)  # the create timeout, not the 30 s request timeout
        assert json.loads(sent.body) == {
            "type": "avatar",
            "avatar_id": "avatar-1",
            "script": "Hello.",
            "voice_id": "voice-1",
            "resolution": "720p",
            "aspect_ratio": "16:9",
            "title": "T",
        }

    @pytest.mark.parametrize(
        "failure",
        [
            {"status_code": 503, "json": {"error": {"code": "unavailable", "message": "busy"}}},
            {"status_code": 504, "text": "<html><title>Gateway Timeout</title></html>"},
            {"exc": requests.ReadTimeout("read timed out")},
            {"exc": requests.ConnectionError("connection reset by peer")},
            {"status_code": 409, "json": {"error": {"code": "request_in_progress", "message": "in progress"}}},
        ],
        ids=["503", "504-html", "read-timeout", "reset", "409-in-progress"],
    )
    def test_a_keyed_create_is_sent_again_with_the_same_key(
        self, hook: HeyGenHook, requests_mock: Any, failure: dict[str, Any]
    ) -> None:
        requests_mock.post(f"{BASE_URL}/v3/videos", [failure, {"json": CREATED}])
        assert hook.create_video({"video_inputs": [SCENE]}, idempotency_key=KEY).video_id == "vid-3"
        keys = [request.headers["Idempotency-Key"] for request in requests_mock.request_history]
        assert keys == [KEY, KEY]

    @pytest.mark.parametrize("key", ["", "has space", "k" * 256, "slash/in/key", "é"])
    def test_a_key_heygen_would_refuse_is_refused_before_any_call(
        self, hook: HeyGenHook, requests_mock: Any, key: str
    ) -> None:
        # HeyGen takes 1-255 characters of [A-Za-z0-9_:.-]. An empty key would send no header yet mark the
        # create safe to re-send: a 5xx would then be followed by a second, keyless, paid create.
        with pytest.raises(HeyGenRequestValidationError, match=r"idempotency_key: must be 1 to 255 characters"):
            hook.create_video({"video_inputs": [SCENE]}, idempotency_key=key)
        with pytest.raises(HeyGenRequestValidationError, match=r"idempotency_key"):
            hook.create_template_video("tpl-1", {"variables": {}}, idempotency_key=key)
        assert requests_mock.call_count == 0

    def test_without_a_key_a_create_that_may_have_reached_heygen_is_not_sent_again(
        self, hook: HeyGenHook, requests_mock: Any
    ) -> None:
        requests_mock.post(f"{BASE_URL}/v3/videos", [{"exc": requests.ReadTimeout("slow")}, {"json": CREATED}])
        with pytest.raises(HeyGenTransportError):
            hook.create_video({"video_inputs": [SCENE]})
        assert requests_mock.call_count == 1
        assert "Idempotency-Key" not in requests_mock.last_request.headers

    def test_a_lasting_5xx_is_raised_after_the_attempts(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.post(f"{BASE_URL}/v3/videos", status_code=502, text="bad gateway")
        with pytest.raises(HeyGenServerError):
            hook.create_video({"video_inputs": [SCENE]}, idempotency_key=KEY)
        assert requests_mock.call_count == QUICK.attempts

    @pytest.mark.parametrize(
        "answer",
        [
            {"data": {"video_id": 12345}},
            {"data": {"video_id": ""}},
            {"data": None},
            {"code": "100", "data": {"video_id": "vid-3"}, "message": "Success"},
        ],
        ids=["number", "empty", "null-data", "code-as-text"],
    )
    def test_an_odd_2xx_answer_is_an_unreadable_answer_not_a_crash(
        self, hook: HeyGenHook, requests_mock: Any, answer: dict[str, Any]
    ) -> None:
        requests_mock.post(f"{BASE_URL}/v3/videos", json=answer)
        with pytest.raises(HeyGenMalformedResponseError):
            hook.create_video({"video_inputs": [SCENE]})
        assert requests_mock.call_count == 1

    def test_bad_input_for_v3_fails_before_any_call(self, hook: HeyGenHook, requests_mock: Any) -> None:
        scene = {**SCENE, "character": {**SCENE["character"], "avatar_style": "circle"}}
        with pytest.raises(HeyGenRequestValidationError, match="needs api_version 'legacy'"):
            hook.create_video({"video_inputs": [scene]}, idempotency_key=KEY)
        assert requests_mock.call_count == 0


class TestRedirects:
    @pytest.mark.parametrize("method", ["status", "create"])
    def test_a_redirect_is_not_followed_so_the_key_goes_nowhere_else(
        self, hook: HeyGenHook, requests_mock: Any, method: str
    ) -> None:
        elsewhere = "https://collector.example/steal"
        requests_mock.get(f"{BASE_URL}/v3/videos/vid-1", status_code=302, headers={"Location": elsewhere})
        requests_mock.post(f"{BASE_URL}/v3/videos", status_code=307, headers={"Location": elsewhere})
        requests_mock.register_uri("GET", elsewhere, json={"data": {"id": "vid-1", "status": "completed"}})
        requests_mock.register_uri("POST", elsewhere, json=CREATED)
        with pytest.raises(Exception, match="redirects are not followed"):
            if method == "status":
                hook.get_video_status("vid-1")
            else:
                hook.create_video({"video_inputs": [SCENE]}, idempotency_key=KEY)
        assert all(request.hostname == "api.heygen.com" for request in requests_mock.request_history)


class TestStatusAndLookups:
    def test_status_is_read_from_v3(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.get(
            f"{BASE_URL}/v3/videos/vid-3",
            json={"data": {"id": "vid-3", "status": "failed", "failure_code": "40119", "failure_message": "too long"}},
        )
        status = hook.get_video_status("vid-3")
        assert status.status is VideoStatus.FAILED
        assert status.error is not None and (status.error.code, status.error.message) == ("40119", "too long")

    def test_avatars_are_the_accounts_looks(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.get(
            f"{BASE_URL}/v3/avatars/looks",
            json={"data": [{"id": "look-1", "name": "Daisy", "avatar_type": "photo_avatar"}], "has_more": False},
        )
        avatars = hook.list_avatars()
        assert [(avatar.avatar_id, avatar.avatar_name) for avatar in avatars.avatars] == [("look-1", "Daisy")]

    def test_voices(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.get(
            f"{BASE_URL}/v3/voices",
            json={"data": [{"voice_id": "v-1", "name": "Ann", "language": "English", "preview_audio_url": "u"}]},
        )
        assert [voice.voice_id for voice in hook.list_voices().voices] == ["v-1"]

    @pytest.mark.parametrize(
        ("path", "read", "first", "second"),
        [
            (
                "/v3/avatars/looks",
                lambda hook: [avatar.avatar_id for avatar in hook.list_avatars().avatars],
                {"id": "look-1", "name": "A", "avatar_type": "photo_avatar"},
                {"id": "look-2", "name": "B", "avatar_type": "studio_avatar"},
            ),
            (
                "/v3/voices",
                lambda hook: [voice.voice_id for voice in hook.list_voices().voices],
                {"voice_id": "look-1", "name": "A"},
                {"voice_id": "look-2", "name": "B"},
            ),
        ],
        ids=["looks", "voices"],
    )
    def test_every_page_of_a_listing_is_read(
        self,
        hook: HeyGenHook,
        requests_mock: Any,
        path: str,
        read: Callable[[HeyGenHook], list[str]],
        first: dict[str, Any],
        second: dict[str, Any],
    ) -> None:
        # v3 listings are paged: has_more and next_token beside data, the next page asked for with token.
        def page(request: Any, context: Any) -> dict[str, Any]:
            if request.qs.get("token") == ["cursor-2"]:
                return {"data": [second], "has_more": False, "next_token": None}
            return {"data": [first], "has_more": True, "next_token": "cursor-2"}

        requests_mock.get(f"{BASE_URL}{path}", json=page)
        assert read(hook) == ["look-1", "look-2"]
        assert [request.qs.get("token") for request in requests_mock.request_history] == [None, ["cursor-2"]]

    def test_a_cursor_that_repeats_ends_the_listing(self, hook: HeyGenHook, requests_mock: Any) -> None:
        looping = {"data": [{"voice_id": "v-1", "name": "A"}], "has_more": True, "next_token": "same"}
        requests_mock.get(f"{BASE_URL}/v3/voices", json=looping)
        assert [voice.voice_id for voice in hook.list_voices().voices] == ["v-1", "v-1"]
        assert requests_mock.call_count == 2

    @pytest.mark.parametrize(
        ("user", "remaining"),
        [
            ({"billing_type": "usage_based", "usage_based": {"remaining_credits": 42}}, "42 credits remaining"),
            ({"billing_type": "usage_based", "usage_based": {"remaining_credits": 1}}, "1 credit remaining"),
            (
                {"billing_type": "subscription", "subscription": {"credits": {"premium_credits": {"remaining": 7}}}},
                "7 credits remaining",
            ),
            (
                {
                    "billing_type": "subscription",
                    "subscription": {"credits": {"premium_credits": {"remaining": 1500.5}}},
                },
                "1,500.5 credits remaining",
            ),
            (
                {"billing_type": "wallet", "wallet": {"remaining_balance": 66692.6, "currency": "usd"}},
                "66,692.60 USD of credit remaining",
            ),
            (
                {
                    "billing_type": "usage_based",
                    "usage_based": {"remaining_credits": None, "spending_cap_usd": 50, "spending_current_usd": 12.5},
                },
                "37.50 USD of credit remaining",
            ),
            (
                {"billing_type": "usage_based", "usage_based": {"remaining_credits": None, "spending_cap_usd": None}},
                "usage-based billing with no spending cap",
            ),
        ],
        ids=["usage", "one-credit", "subscription", "fractional-credits", "wallet", "usage-capped", "usage-uncapped"],
    )
    def test_test_connection_reads_the_account(
        self, hook: HeyGenHook, requests_mock: Any, user: dict[str, Any], remaining: str
    ) -> None:
        requests_mock.get(f"{BASE_URL}/v3/users/me", json={"data": user})
        assert hook.test_connection() == (True, f"Connected to HeyGen (v3): {remaining}")


class TestLegacyRetired:
    @pytest.fixture
    def legacy(self, define_connection: Callable[..., str], recorded_sleeps: list[float]) -> HeyGenHook:
        return HeyGenHook(define_connection(api_version="legacy"), retry_policy=QUICK)

    @pytest.mark.parametrize(
        "answer",
        [
            {"status_code": 404, "text": "<html><title>404 Not Found</title></html>"},
            {"status_code": 410, "json": {"message": "gone"}},
            {"status_code": 405, "text": "Method Not Allowed"},
            {"status_code": 404, "json": {"code": 404, "message": "Not found"}},  # HeyGen-shaped, but on create
        ],
        ids=["404-html", "410", "405", "404-json-on-create"],
    )
    def test_a_retired_create_path_says_how_to_switch(
        self, legacy: HeyGenHook, requests_mock: Any, answer: dict[str, Any]
    ) -> None:
        requests_mock.post(f"{BASE_URL}/v2/video/generate", **answer)
        with pytest.raises(HeyGenLegacyApiRetiredError) as caught:
            legacy.create_video({"video_inputs": [SCENE]})
        assert "retired its legacy API on 2026-10-31" in str(caught.value)
        assert "api_version to 'v3'" in str(caught.value)
        assert requests_mock.call_count == 1

    def test_a_redirect_on_a_legacy_path_says_how_to_switch(self, legacy: HeyGenHook, requests_mock: Any) -> None:
        # A retired path may send callers to a page about the retirement; the key never follows.
        requests_mock.post(
            f"{BASE_URL}/v2/video/generate", status_code=301, headers={"Location": "https://docs.heygen.com/v3"}
        )
        with pytest.raises(HeyGenLegacyApiRetiredError) as caught:
            legacy.create_video({"video_inputs": [SCENE]})
        assert "retired its legacy API on 2026-10-31" in str(caught.value)
        assert "docs.heygen.com" in str(caught.value)
        assert requests_mock.call_count == 1

    def test_an_html_page_in_a_2xx_on_a_legacy_path_says_how_to_switch(
        self, legacy: HeyGenHook, requests_mock: Any
    ) -> None:
        requests_mock.get(
            f"{BASE_URL}/v1/video_status.get", text="<html><title>This API has moved to v3</title></html>"
        )
        with pytest.raises(HeyGenMalformedResponseError) as caught:
            legacy.get_video_status("vid-x")
        assert "This API has moved to v3" in str(caught.value)
        assert "api_version to 'v3'" in str(caught.value)

    def test_a_cut_off_json_answer_on_a_legacy_path_says_nothing_of_retirement(
        self, legacy: HeyGenHook, requests_mock: Any
    ) -> None:
        # A truncated body is a network fault: pointing at a retired API would send the user the wrong way.
        requests_mock.get(f"{BASE_URL}/v1/video_status.get", text='{"code": 100, "data": {"video_id": "vid-')
        with pytest.raises(HeyGenMalformedResponseError) as caught:
            legacy.get_video_status("vid-x")
        assert "legacy API" not in str(caught.value)

    def test_heygens_own_404_for_an_unknown_video_stays_not_found(self, legacy: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.get(f"{BASE_URL}/v1/video_status.get", status_code=404, json={"code": 404, "message": "nope"})
        with pytest.raises(HeyGenNotFoundError) as caught:
            legacy.get_video_status("vid-x")
        assert not isinstance(caught.value, HeyGenLegacyApiRetiredError)

    def test_a_retired_status_path_is_explained_too(self, legacy: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.get(f"{BASE_URL}/v1/video_status.get", status_code=404, text="<html>Not Found</html>")
        with pytest.raises(HeyGenLegacyApiRetiredError):
            legacy.get_video_status("vid-x")


class TestUploads:
    PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 5000

    def test_a_photo_path_is_uploaded_as_multipart_then_used_by_asset_id(
        self, hook: HeyGenHook, requests_mock: Any, tmp_path: Path
    ) -> None:
        photo = tmp_path / "face.png"
        photo.write_bytes(self.PNG)
        requests_mock.post(
            f"{BASE_URL}/v3/assets",
            json={"data": {"asset_id": "asset-9", "url": "u", "mime_type": "image/png", "size_bytes": len(self.PNG)}},
        )
        requests_mock.post(f"{BASE_URL}/v3/videos", json=CREATED)
        scene = {"character": {"type": "image", "image_path": str(photo)}, "voice": SCENE["voice"]}

        hook.create_video({"video_inputs": [scene]}, idempotency_key=KEY)

        upload, create = requests_mock.request_history
        assert upload.headers["Content-Type"].startswith("multipart/form-data; boundary=")
        assert int(upload.headers["Content-Length"]) > len(self.PNG)
        assert upload.headers["Idempotency-Key"].startswith(f"{KEY}:asset:")
        raw = b"".join(iter(lambda: upload.body.read(65536), b"")) if hasattr(upload.body, "read") else upload.body
        assert self.PNG in raw and b'name="file"; filename="face.png"' in raw
        assert json.loads(create.body)["image"] == {"type": "asset_id", "asset_id": "asset-9"}

    def test_a_long_render_key_still_gives_upload_keys_heygen_accepts(
        self, hook: HeyGenHook, requests_mock: Any, tmp_path: Path
    ) -> None:
        photo = tmp_path / "face.png"
        photo.write_bytes(self.PNG)
        requests_mock.post(f"{BASE_URL}/v3/assets", json={"data": {"asset_id": "asset-9"}})
        requests_mock.post(f"{BASE_URL}/v3/videos", json=CREATED)
        scene = {"character": {"type": "image", "image_path": str(photo)}, "voice": SCENE["voice"]}
        long_key = "k" * 255  # the longest key HeyGen takes; ":asset:<digest>" appended would pass 255

        hook.create_video({"video_inputs": [scene]}, idempotency_key=long_key)

        upload, create = requests_mock.request_history
        assert len(upload.headers["Idempotency-Key"]) <= 255
        assert create.headers["Idempotency-Key"] == long_key

    def test_a_file_that_is_not_a_jpeg_or_png_is_refused_before_any_call(
        self, hook: HeyGenHook, requests_mock: Any, tmp_path: Path
    ) -> None:
        photo = tmp_path / "face.gif"
        photo.write_bytes(b"GIF89a" + b"\x00" * 100)
        scene = {"character": {"type": "image", "image_path": str(photo)}, "voice": SCENE["voice"]}
        with pytest.raises(HeyGenRequestValidationError, match=r"character\.image_path: must be a JPEG or PNG"):
            hook.create_video({"video_inputs": [scene]}, idempotency_key=KEY)
        assert requests_mock.call_count == 0

    def test_an_earlier_upload_is_not_sent_again(self, hook: HeyGenHook, requests_mock: Any, tmp_path: Path) -> None:
        from heygen_provider.models import VideoGenerateRequest

        photo = tmp_path / "face.png"
        photo.write_bytes(self.PNG)
        request = VideoGenerateRequest.from_params(
            {"video_inputs": [{"character": {"type": "image", "image_path": str(photo)}, "voice": SCENE["voice"]}]}
        )
        resolved, assets = hook.upload_images(request, uploaded={str(photo): "asset-old"}, idempotency_key=KEY)
        assert requests_mock.call_count == 0
        assert resolved.video_inputs[0].character.image_asset_id == "asset-old"
        assert assets == {str(photo): "asset-old"}


DELETED = {"data": {"id": "vid-3", "deleted": True}}


class TestDeleteVideo:
    def test_sends_one_delete_of_the_video_with_the_key(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.delete(f"{BASE_URL}/v3/videos/vid%2F3", json=DELETED)
        assert hook.delete_video("vid/3") is True
        (sent,) = requests_mock.request_history
        assert (sent.method, sent.path) == ("DELETE", "/v3/videos/vid%2f3")
        assert sent.headers["X-Api-Key"] == API_KEY

    def test_a_video_already_gone_is_not_an_error(self, hook: HeyGenHook, requests_mock: Any) -> None:
        requests_mock.delete(
            f"{BASE_URL}/v3/videos/vid-3",
            status_code=404,
            json={"error": {"code": "video_not_found", "message": "Video vid-3 not found"}},
        )
        assert hook.delete_video("vid-3") is False
        assert requests_mock.call_count == 1

    def test_is_sent_again_after_a_server_error_as_it_is_idempotent(
        self, hook: HeyGenHook, requests_mock: Any, recorded_sleeps: list[float]
    ) -> None:
        requests_mock.delete(
            f"{BASE_URL}/v3/videos/vid-3",
            [{"status_code": 503, "json": {"error": {"code": "unavailable", "message": "busy"}}}, {"json": DELETED}],
        )
        assert hook.delete_video("vid-3") is True
        assert requests_mock.call_count == 2

    def test_legacy_cannot_delete_and_sends_nothing(
        self, define_connection: Callable[..., str], requests_mock: Any
    ) -> None:
        from heygen_provider.exceptions import HeyGenConnectionError

        legacy = HeyGenHook(define_connection(api_version="legacy"), retry_policy=QUICK)
        with pytest.raises(HeyGenConnectionError, match=r"legacy API cannot delete or cancel a render.*api_version"):
            legacy.delete_video("vid-3")
        assert requests_mock.call_count == 0
