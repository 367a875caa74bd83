"""v3 video reads: one video, many at once (bulk statuses), the listing, and deletion."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from heygen_provider.testing.emulator import HeyGenEmulator
from heygen_provider.testing.emulator.schema import response_problems

from .helpers import STATUS, V3_STATUSES, V3_VIDEOS, create_v3, create_video, v3_error, v3_video

VIDEO_FIELDS = {
    "id",
    "title",
    "status",
    "video_url",
    "captioned_video_url",
    "subtitle_url",
    "thumbnail_url",
    "gif_url",
    "video_page_url",
    "duration",
    "created_at",
    "completed_at",
    "failure_code",
    "failure_message",
    "folder_id",
    "output_language",
}


def conforms(operation: str, payload: Any) -> None:
    """The answer fits HeyGen's published response schema of ``operation``."""
    assert response_problems(operation, payload) == []


def test_get_video_follows_the_videoget_schema(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    heygen_emulator.update_settings(render_seconds=30)
    video_id = create_v3(api, title="Launch", callback_id="run-9")
    running = api.get(f"{V3_VIDEOS}/{video_id}").json()
    conforms("VideoGet", running)
    data = running["data"]
    assert set(data) == VIDEO_FIELDS  # no callback_id: v3 does not echo it here
    assert (data["id"], data["status"], data["title"]) == (video_id, "processing", "Launch")
    assert isinstance(data["created_at"], int)
    assert data["completed_at"] is None and data["video_url"] is None and data["duration"] is None

    heygen_emulator.advance_time(31)
    done = api.get(f"{V3_VIDEOS}/{video_id}").json()
    conforms("VideoGet", done)
    data = done["data"]
    assert data["status"] == "completed"
    assert isinstance(data["completed_at"], int) and data["completed_at"] >= data["created_at"]
    assert data["duration"] > 0
    assert data["video_page_url"].endswith(f"/videos/{video_id}")
    assert data["failure_code"] is None and data["failure_message"] is None
    # Captions were not asked for.
    assert data["captioned_video_url"] is None and data["subtitle_url"] is None
    assert anonymous.get(data["video_url"]).content[4:8] == b"ftyp"


def test_captions_sidecar_always_burnt_in_only_with_a_style(api: httpx.Client, anonymous: httpx.Client) -> None:
    sidecar = v3_video(api, create_v3(api, caption={"file_format": "srt"}))
    assert sidecar["captioned_video_url"] is None
    subtitles = anonymous.get(sidecar["subtitle_url"])
    assert subtitles.headers["Content-Type"] == "application/x-subrip"
    assert subtitles.text.startswith("1\n00:00:00,000 --> ")
    burnt = v3_video(api, create_v3(api, caption={"style": "default"}))
    assert anonymous.get(burnt["captioned_video_url"]).content[4:8] == b"ftyp"
    assert burnt["subtitle_url"]


def test_a_legacy_video_reads_through_v3_too(api: httpx.Client) -> None:
    data = v3_video(api, create_video(api, caption=True, title="Old"))
    assert (data["status"], data["title"]) == ("completed", "Old")
    assert data["captioned_video_url"] and data["subtitle_url"]


def test_failed_video_reports_failure_code_and_message(api: httpx.Client) -> None:
    data = v3_video(api, create_v3(api, title="emulator:fail-internal"))
    assert (data["status"], data["failure_code"]) == ("failed", "internal_error")
    assert data["failure_message"] == "Rendering failed"
    assert isinstance(data["completed_at"], int) and data["video_url"] is None


def test_completed_with_error_reports_no_failure(api: httpx.Client) -> None:
    # The schema: failure fields "only present when status is failed".
    data = v3_video(api, create_v3(api, title="emulator:completed-with-error"))
    assert (data["status"], data["failure_code"]) == ("completed", None)


def test_unknown_video_is_a_v3_404(api: httpx.Client) -> None:
    error = v3_error(api.get(f"{V3_VIDEOS}/{'f' * 32}"), 404)
    assert (error["code"], error["param"]) == ("video_not_found", "video_id")


def test_unauthenticated_v3_requests_get_v3s_401(anonymous: httpx.Client) -> None:
    for answer in (
        anonymous.get(f"{V3_VIDEOS}/{'f' * 32}"),
        anonymous.post(V3_VIDEOS, json={}, headers={"X-Api-Key": "wrong"}),
        anonymous.get("/v3/users/me", headers={"Authorization": "Bearer not-configured"}),
    ):
        assert v3_error(answer, 401)["code"] == "unauthorized"


def test_unknown_v3_route_and_wrong_method(api: httpx.Client) -> None:
    assert v3_error(api.get("/v3/nothing"), 404)["code"] == "not_found"
    assert v3_error(api.put(V3_VIDEOS, json={}), 405)["code"] == "method_not_allowed"
    assert v3_error(api.post(f"{V3_VIDEOS}/{'a' * 32}", json={}), 405)["code"] == "method_not_allowed"


# Bulk statuses ------------------------------------------------------------------------------------


def test_bulk_statuses_report_each_video_and_not_found_for_unknown_ids(
    heygen_emulator: HeyGenEmulator, api: httpx.Client
) -> None:
    heygen_emulator.update_settings(render_seconds=50)
    running = create_v3(api)
    # Videos created now read pending for a while, which the bulk endpoint calls queued.
    heygen_emulator.update_settings(pending_seconds=10)
    queued = create_v3(api)
    failed = create_v3(api, title="emulator:fail-credit emulator:render-seconds=0")
    heygen_emulator.advance_time(1)
    unknown = "0" * 32
    answer = api.get(V3_STATUSES, params={"video_ids": f"{running},{queued},{failed},{unknown}", "batch_ids": "b-1"})
    assert answer.status_code == 200
    payload = answer.json()
    conforms("VideoStatusesList", payload)
    assert (payload["has_more"], payload["next_token"]) == (False, None)
    items = payload["data"]
    assert [(item["video_id"], item["status"]) for item in items] == [
        (running, "processing"),
        (queued, "queued"),
        # Still pending: it fails at once when its render starts.
        (failed, "queued"),
        (unknown, "not_found"),
        (None, "not_found"),
    ]
    assert items[-1]["batch_id"] == "b-1"
    assert all(set(item) == {"video_id", "status", "error", "batch_id", "item_index"} for item in items)
    heygen_emulator.advance_time(200)
    later = api.get(V3_STATUSES, params={"video_ids": f"{running},{failed}"}).json()["data"]
    done, fail = later
    assert done["status"] == "completed" and done["error"] is None
    assert fail["status"] == "failed"
    assert fail["error"]["code"] == "MOVIO_PAYMENT_INSUFFICIENT_CREDIT"


def test_bulk_statuses_take_at_most_100_ids(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    ids = [f"{index:032x}" for index in range(101)]
    error = v3_error(api.get(V3_STATUSES, params={"video_ids": ",".join(ids)}), 400)
    assert (error["code"], error["param"]) == ("invalid_parameter", "video_ids")
    assert "at most 100" in error["message"]
    mixed = {"video_ids": ",".join(ids[:60]), "batch_ids": ",".join(ids[60:])}
    assert api.get(V3_STATUSES, params=mixed).status_code == 400
    assert len(api.get(V3_STATUSES, params={"video_ids": ",".join(ids[:100])}).json()["data"]) == 100
    assert v3_error(api.get(V3_STATUSES), 400)["param"] == "video_ids"


def test_the_request_log_tells_bulk_calls_apart(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    first, second = create_v3(api), create_v3(api)
    api.get(V3_STATUSES, params={"video_ids": f"{first},{second}"})
    api.get(f"{V3_VIDEOS}/{first}")
    api.get(V3_STATUSES, params={"video_ids": second})
    bulk = heygen_emulator.bulk_status_calls()
    assert [call.bulk_ids for call in bulk] == [[first, second], [second]]
    assert [len(call.bulk_ids or []) for call in bulk] == [2, 1]
    assert all(call.video_id is None and call.status == 200 for call in bulk)
    # The polls of one video include the bulk calls that asked about it.
    polls = [entry.path for entry in heygen_emulator.requests(method="GET", video_id=first)]
    assert polls == [V3_STATUSES, f"{V3_VIDEOS}/{first}"]
    assert heygen_emulator.requests(method="GET", path=f"{V3_VIDEOS}/{first}")[0].bulk_ids is None


# Deletion and listing -----------------------------------------------------------------------------


def test_delete_removes_the_video_everywhere(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    video_id = create_v3(api)
    video_url = v3_video(api, video_id)["video_url"]
    answer = api.delete(f"{V3_VIDEOS}/{video_id}")
    assert answer.status_code == 200
    assert answer.json() == {"data": {"id": video_id, "deleted": True}}
    conforms("VideoDelete", answer.json())
    assert v3_error(api.get(f"{V3_VIDEOS}/{video_id}"), 404)["code"] == "video_not_found"
    assert api.get(STATUS, params={"video_id": video_id}).status_code == 404
    assert api.get(V3_STATUSES, params={"video_ids": video_id}).json()["data"][0]["status"] == "not_found"
    assert anonymous.get(video_url).status_code == 404
    assert heygen_emulator.videos() == []
    assert v3_error(api.delete(f"{V3_VIDEOS}/{video_id}"), 404)["code"] == "video_not_found"


def test_delete_of_a_render_in_progress_removes_it_and_is_logged(
    heygen_emulator: HeyGenEmulator, api: httpx.Client
) -> None:
    # What cancel_on_kill sends: the render is still processing when its task is killed.
    heygen_emulator.update_settings(render_seconds=30)
    video_id = create_v3(api)
    assert v3_video(api, video_id)["status"] == "processing"
    answer = api.delete(f"{V3_VIDEOS}/{video_id}")
    assert answer.status_code == 200
    assert answer.json() == {"data": {"id": video_id, "deleted": True}}
    conforms("VideoDelete", answer.json())
    heygen_emulator.advance_time(31)
    assert v3_error(api.get(f"{V3_VIDEOS}/{video_id}"), 404)["code"] == "video_not_found"
    (logged,) = heygen_emulator.requests(method="DELETE", video_id=video_id)
    assert (logged.path, logged.status) == (f"{V3_VIDEOS}/{video_id}", 200)


def test_list_videos_newest_first_in_pages(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    ids = [create_v3(api, title=f"Report {index}") for index in range(5)]
    first = api.get(V3_VIDEOS, params={"limit": 2}).json()
    conforms("VideoList", first)
    assert [video["id"] for video in first["data"]] == [ids[4], ids[3]]
    assert first["has_more"] is True and first["next_token"]
    # A video created between pages does not shift them.
    create_v3(api, title="Late")
    second = api.get(V3_VIDEOS, params={"limit": 2, "token": first["next_token"]}).json()
    assert [video["id"] for video in second["data"]] == [ids[2], ids[1]]
    last = api.get(V3_VIDEOS, params={"limit": 2, "token": second["next_token"]}).json()
    assert [video["id"] for video in last["data"]] == [ids[0]]
    assert (last["has_more"], last["next_token"]) == (False, None)
    titled = api.get(V3_VIDEOS, params={"title": "report 3"}).json()["data"]
    assert [video["id"] for video in titled] == [ids[3]]
    assert api.get(V3_VIDEOS, params={"folder_id": "f-1"}).json()["data"] == []
    assert len(api.get(V3_VIDEOS).json()["data"]) == 6


@pytest.mark.parametrize(
    ("query", "param"), [({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"token": "?"}, "token")]
)
def test_list_refuses_bad_paging(api: httpx.Client, query: dict[str, str], param: str) -> None:
    assert v3_error(api.get(V3_VIDEOS, params=query), 400)["param"] == param
