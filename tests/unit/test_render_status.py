"""
The render status words are one enum (``heygen_provider.vocabulary.RenderStatus``), written exactly as the
plain strings were: in trigger events, XCom, the summary text, and read back from events stored before.
"""

from __future__ import annotations

import json

import pytest

try:  # Airflow 3.2+: XCom values are serialized by the task SDK's serde.
    from airflow.sdk.serde import serialize
except ImportError:  # Airflow 3.1
    from airflow.serialization.serde import serialize

from heygen_provider.campaign.outcomes import NOT_SUBMITTED, REJECTED
from heygen_provider.campaign.review import PUBLISHED
from heygen_provider.campaign.summary import READY_STATUSES, count_outcomes, render_summary_text
from heygen_provider.models.event import RENDER_ENDED, VideoEvent
from heygen_provider.models.status import VideoStatus
from heygen_provider.vocabulary import RenderStatus

#: The words as the trigger, the XCom results and the summary wrote them before the enum.
WORDS = {
    "queued",
    "processing",
    "success",
    "failed",
    "cancelled",
    "timeout",
    "error",
    "unknown",
    "not_submitted",
    "rejected",
    "published",
}


def test_the_enum_holds_exactly_the_words_written_before() -> None:
    assert {status.value for status in RenderStatus} == WORDS


@pytest.mark.parametrize("status", list(RenderStatus), ids=str)
def test_each_status_is_its_word_in_str_format_json_and_airflow_serde(status: RenderStatus) -> None:
    assert status == status.value
    # Logging formats with %s.
    assert str(status) == f"{status}" == "%s" % status == status.value  # noqa: UP031
    assert json.dumps({"status": status}) == json.dumps({"status": status.value})
    assert serialize({"status": status}) == serialize({"status": status.value})


def test_heygens_statuses_are_render_status_words() -> None:
    """The spec's statuses read from HeyGen are the same words, so an event of either compares equal."""
    assert {status.value for status in VideoStatus} <= {status.value for status in RenderStatus}
    assert {status.value for status in VideoStatus if status.is_terminal} == set(RENDER_ENDED)


def test_the_campaign_names_are_members_of_the_enum() -> None:
    assert (NOT_SUBMITTED, REJECTED, PUBLISHED) == (
        RenderStatus.NOT_SUBMITTED,
        RenderStatus.REJECTED,
        RenderStatus.PUBLISHED,
    )
    assert READY_STATUSES == (RenderStatus.SUCCESS, RenderStatus.PUBLISHED)


def test_a_trigger_event_payload_is_unchanged_and_an_old_payload_reads_back_equal() -> None:
    payload = VideoEvent.timeout("v1", "still rendering").to_payload()
    assert json.loads(json.dumps(payload))["status"] == "timeout"
    assert serialize(payload) == serialize({**payload, "status": "timeout"})
    # A payload stored by an older trigger holds plain strings: it is the same event.
    old = VideoEvent.from_payload({"status": "success", "video_id": "v1", "message": "ok", "result": {"a": 1}})
    assert old.render_ended and old.result_or_raise() == {"a": 1}
    assert VideoEvent.from_payload({"status": "error", "video_id": "v1", "message": "x"}).status == RenderStatus.ERROR


def test_the_summary_spells_an_enum_status_as_its_word() -> None:
    rows = [
        {"video_id": None, "title": "North", "status": RenderStatus.NOT_SUBMITTED, "reason": "bad input"},
        {"video_id": "v2", "title": "South", "status": RenderStatus.REJECTED, "reason": "rejected by ada"},
    ]
    assert count_outcomes(rows) == "2 videos: 1 not submitted, 1 rejected"
    text = render_summary_text(rows, title="Weekly")
    assert "- North: NOT_SUBMITTED: bad input" in text
    assert "- South: REJECTED: rejected by ada, video v2" in text
    assert "RenderStatus" not in text
