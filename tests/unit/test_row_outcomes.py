"""What the summary says about each row, read from the mapped tasks' XComs and, for failures, from HeyGen."""

from __future__ import annotations

from typing import Any

from heygen_provider.campaign.outcomes import NOT_SUBMITTED, collect_row_outcomes, failed_rows
from heygen_provider.hooks.heygen import HeyGenHook
from tests.fixtures.scenes import emulator_scene

GENERATE = "render_row.generate_video"
DOWNLOAD = "render_row.download_video"
SCENE = emulator_scene("Hello")


class XComs:
    """The XComs of one DAG run, answered as ``TaskInstance.xcom_pull`` answers them (None when absent)."""

    def __init__(self, values: dict[tuple[str, int, str], Any]) -> None:
        self.values = values
        self.pulls: list[tuple[str, int, str]] = []

    def xcom_pull(self, *, task_ids: str, map_indexes: int, key: str = "return_value") -> Any:
        self.pulls.append((task_ids, map_indexes, key))
        return self.values.get((task_ids, map_indexes, key))


def _submit(title: str) -> str:
    return HeyGenHook().create_video({"video_inputs": [SCENE], "title": title}).video_id


def test_each_row_ends_up_stored_failed_with_heygens_reason_or_not_submitted(heygen_connection: Any) -> None:
    failed_id = _submit("emulator:fail")
    stuck_id = _submit("emulator:stuck")
    xcoms = XComs(
        {
            (GENERATE, 0, "return_value"): {"video_id": "ok", "status": "success", "title": "North"},
            (DOWNLOAD, 0, "return_value"): {"video_id": "ok", "video_path": "file:///v/north.mp4"},
            (GENERATE, 1, "video_id"): failed_id,
            (GENERATE, 3, "video_id"): stuck_id,
            (GENERATE, 4, "return_value"): {"video_id": "late", "status": "success", "title": "West"},
        }
    )

    outcomes = collect_row_outcomes(
        xcoms, ["North", "Atlantis", "Nowhere", "Stuck", "West"], generate_task_id=GENERATE, download_task_id=DOWNLOAD
    )

    stored, failed, never, stuck, unstored = outcomes
    assert stored["reason"] is None and stored["files"]["video_path"] == "file:///v/north.mp4"
    assert (failed["video_id"], failed["status"], failed["title"]) == (failed_id, "failed", "Atlantis")
    assert failed["reason"].startswith("code 40119: Video is too long")
    assert (never["video_id"], never["status"]) == (None, NOT_SUBMITTED)
    assert (stuck["status"], stuck["reason"]) == ("timeout", "still processing at HeyGen when the task stopped waiting")
    assert unstored["reason"].startswith("rendered, but not stored")
    assert [row["label"] for row in failed_rows(outcomes)] == ["Atlantis", "Nowhere", "Stuck", "West"]


def test_heygen_is_asked_only_about_rows_that_failed_after_submitting(
    heygen_connection: Any, heygen_emulator: Any
) -> None:
    failed_id = _submit("emulator:fail")
    before = len(heygen_emulator.requests(method="GET"))
    xcoms = XComs(
        {
            (GENERATE, 0, "return_value"): {"video_id": "ok", "status": "success"},
            (GENERATE, 1, "video_id"): failed_id,
        }
    )

    collect_row_outcomes(xcoms, ["a", "b", "c"], generate_task_id=GENERATE)

    asked = heygen_emulator.requests(method="GET")[before:]
    assert [request.video_id for request in asked] == [failed_id]
