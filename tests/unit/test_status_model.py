"""The status model: HeyGen's many status values mapped onto the spec's five, errors and URLs kept."""

from __future__ import annotations

import json
from typing import Any

import pytest

from heygen_provider.models import VideoStatus, VideoStatusResponse, map_service_status

SIGNED = "?Expires=1735689600&Signature=abc"


def status_of(**data: Any) -> VideoStatusResponse:
    return VideoStatusResponse.model_validate({"id": "video-1", **data})


class TestStatusMapping:
    @pytest.mark.parametrize(
        ("service_status", "status"),
        [
            ("pending", VideoStatus.QUEUED),
            ("waiting", VideoStatus.QUEUED),
            ("queued", VideoStatus.QUEUED),
            ("processing", VideoStatus.PROCESSING),
            ("completed", VideoStatus.SUCCESS),
            ("success", VideoStatus.SUCCESS),
            ("failed", VideoStatus.FAILED),
            ("not_found", VideoStatus.FAILED),
            ("cancelled", VideoStatus.CANCELLED),
            ("canceled", VideoStatus.CANCELLED),
            ("Completed", VideoStatus.SUCCESS),
            (" FAILED ", VideoStatus.FAILED),
        ],
    )
    def test_known_values(self, service_status: str, status: VideoStatus) -> None:
        response = status_of(status=service_status)
        assert response.status is status
        assert response.service_status == service_status  # what HeyGen said is kept

    @pytest.mark.parametrize("service_status", ["rendering", "draft", "", None])
    def test_unknown_value_means_still_running_never_success(self, service_status: str | None) -> None:
        response = status_of(status=service_status)
        assert response.status is VideoStatus.PROCESSING
        assert not response.is_terminal
        assert not response.is_success

    def test_missing_status_is_recorded_as_unknown(self) -> None:
        assert status_of().service_status == "unknown"
        assert map_service_status(None) is VideoStatus.PROCESSING

    @pytest.mark.parametrize(
        ("service_status", "terminal", "success"),
        [
            ("pending", False, False),
            ("queued", False, False),
            ("processing", False, False),
            ("completed", True, True),
            ("failed", True, False),
            ("not_found", True, False),
            ("cancelled", True, False),
        ],
    )
    def test_terminal_and_success_helpers(self, service_status: str, terminal: bool, success: bool) -> None:
        response = status_of(status=service_status, video_url="https://files.heygen.ai/v.mp4")
        assert (response.is_terminal, response.is_success) == (terminal, success)

    def test_completed_without_a_video_url_is_not_terminal_yet(self) -> None:
        response = status_of(status="completed")
        assert (response.is_success, response.awaiting_video_url, response.is_terminal) == (True, True, False)

    def test_cancelled_is_terminal_but_not_success(self) -> None:
        assert VideoStatus.CANCELLED.is_terminal
        assert status_of(status="cancelled").is_success is False


class TestErrors:
    def test_completed_with_an_error_object_is_success_and_keeps_the_error(self) -> None:
        response = status_of(
            status="completed",
            video_url="https://files.heygen.ai/v.mp4",
            error={"code": "MOVIO_PAYMENT_INSUFFICIENT_CREDIT", "message": "Insufficient credit", "detail": "d"},
        )
        assert response.is_success
        assert response.error is not None
        assert (response.error.code, response.error.message, response.error.detail) == (
            "MOVIO_PAYMENT_INSUFFICIENT_CREDIT",
            "Insufficient credit",
            "d",
        )

    def test_failed_legacy_error_with_numeric_code(self) -> None:
        response = status_of(status="failed", error={"code": 40119, "message": "Video is too long"})
        assert response.status is VideoStatus.FAILED
        assert response.error is not None
        assert (response.error.code, response.error.message) == (40119, "Video is too long")

    @pytest.mark.parametrize("empty", [None, {}, ""])
    def test_empty_error_means_no_error(self, empty: Any) -> None:
        assert status_of(status="processing", error=empty).error is None

    def test_error_as_plain_text(self) -> None:
        error = status_of(status="failed", error="render crashed").error
        assert error is not None
        assert (error.code, error.message) == (None, "render crashed")


V3_FAILED: dict[str, Any] = {
    "id": "video-3",
    "status": "failed",
    "video_url": None,
    "captioned_video_url": "https://files.heygen.ai/captioned.mp4",
    "subtitle_url": "https://files.heygen.ai/subtitles.srt",
    "thumbnail_url": "https://files.heygen.ai/thumb.jpg",
    "gif_url": "https://files.heygen.ai/preview.gif",
    "video_page_url": "https://app.heygen.com/videos/video-3",
    "duration": 12.5,
    "failure_code": "MOVIO_PAYMENT_INSUFFICIENT_CREDIT",
    "failure_message": "Insufficient credit",
}


class TestV3Shape:
    def test_flat_failure_fields_become_the_error_object(self) -> None:
        response = VideoStatusResponse.model_validate(V3_FAILED)
        assert response.error is not None
        assert (response.error.code, response.error.message) == (
            "MOVIO_PAYMENT_INSUFFICIENT_CREDIT",
            "Insufficient credit",
        )

    def test_v3_url_names_are_normalised(self) -> None:
        response = VideoStatusResponse.model_validate(V3_FAILED)
        assert response.video_id == "video-3"
        assert response.video_url_caption == V3_FAILED["captioned_video_url"]
        assert response.caption_url == V3_FAILED["subtitle_url"]
        assert response.video_page_url == V3_FAILED["video_page_url"]

    def test_an_error_object_wins_over_flat_fields(self) -> None:
        response = status_of(status="failed", error={"code": "A", "message": "object"}, failure_code="B")
        assert response.error is not None
        assert response.error.code == "A"


LEGACY_COMPLETED: dict[str, Any] = {
    "id": "video-1",
    "status": "completed",
    "video_url": f"https://files.heygen.ai/video.mp4{SIGNED}",
    "video_url_caption": f"https://files.heygen.ai/video_caption.mp4{SIGNED}",
    "thumbnail_url": f"https://files.heygen.ai/thumb.jpg{SIGNED}",
    "gif_url": "https://files.heygen.ai/preview.gif",
    "caption_url": "https://files.heygen.ai/caption.srt",
    "duration": 31.2,
    "created_at": 1735689000,
    "callback_id": "run-42",
    "error": None,
    "brand_new_field": {"kept": True},
}


class TestUrlsAndResult:
    def test_every_url_is_kept_exactly(self) -> None:
        response = VideoStatusResponse.model_validate(LEGACY_COMPLETED)
        for name in ("video_url", "video_url_caption", "thumbnail_url", "gif_url", "caption_url"):
            assert getattr(response, name) == LEGACY_COMPLETED[name]

    def test_unknown_fields_do_not_break_parsing_and_are_kept(self) -> None:
        response = VideoStatusResponse.model_validate(LEGACY_COMPLETED)
        assert response.model_extra == {"brand_new_field": {"kept": True}}

    def test_video_id_is_read_from_either_name(self) -> None:
        assert VideoStatusResponse.model_validate({"video_id": "v-9", "status": "queued"}).video_id == "v-9"

    def test_result_is_json_serialisable_and_complete(self) -> None:
        result = VideoStatusResponse.model_validate(LEGACY_COMPLETED).to_result()
        assert json.loads(json.dumps(result)) == result
        assert result == {
            "video_id": "video-1",
            "status": "success",
            "service_status": "completed",
            "video_url": LEGACY_COMPLETED["video_url"],
            "video_url_caption": LEGACY_COMPLETED["video_url_caption"],
            "thumbnail_url": LEGACY_COMPLETED["thumbnail_url"],
            "gif_url": LEGACY_COMPLETED["gif_url"],
            "caption_url": LEGACY_COMPLETED["caption_url"],
            "video_page_url": None,
            "duration": 31.2,
            "callback_id": "run-42",
            "error": None,
        }

    def test_result_carries_the_error_as_plain_json(self) -> None:
        result = status_of(status="completed", error={"code": 1, "message": "m"}).to_result()
        assert json.loads(json.dumps(result))["error"] == {"code": 1, "message": "m"}

    def test_result_keeps_the_v3_video_page_url(self) -> None:
        result = VideoStatusResponse.model_validate(V3_FAILED).to_result()
        assert result["video_page_url"] == V3_FAILED["video_page_url"]
