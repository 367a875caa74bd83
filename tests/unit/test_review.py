"""What a reviewer reads, and what became of each row once reviewed (``heygen_provider.campaign.review``)."""

from __future__ import annotations

from typing import Any

from heygen_provider.campaign.outcomes import failed_rows
from heygen_provider.campaign.review import (
    PUBLISHED,
    REJECTED,
    apply_reviews,
    is_approved,
    review_body,
    review_subject,
    spoken_script,
)
from heygen_provider.campaign.summary import render_summary_html, render_summary_text

VIDEO = {
    "video_id": "abc123",
    "status": "success",
    "title": "Weekly figures: North",
    "video_url": "https://files.example/videos/abc123.mp4?Expires=1&Signature=x",
    "thumbnail_url": "https://files.example/thumbs/abc123.jpg?Expires=1",
    "video_page_url": "https://app.heygen.com/videos/abc123",
    "duration": 16.4,
}
FILES = {"video_id": "abc123", "video_path": "s3://bucket/day/north.mp4", "thumbnail_path": "s3://bucket/day/north.jpg"}


def outcome(**changes: Any) -> dict[str, Any]:
    return {**VIDEO, "label": VIDEO["title"], "reason": None, "files": FILES, **changes}


def approved(by: str = "ada") -> dict[str, Any]:
    return {"chosen_options": ["Approve"], "responded_by_user": {"id": by, "name": by}}


def rejected(by: str | None = "grace") -> dict[str, Any]:
    user = {"id": by, "name": by} if by else None
    return {"chosen_options": ["Reject"], "responded_by_user": user}


def test_the_body_shows_the_thumbnail_linked_to_the_video_and_both_links() -> None:
    body = review_body(VIDEO, "Hi Astrid! Revenue was 412,300 euros.")

    assert f"[![Thumbnail of abc123]({VIDEO['thumbnail_url']})]({VIDEO['video_url']})" in body
    assert f"[Watch the video]({VIDEO['video_url']})" in body
    assert f"[Open it in HeyGen]({VIDEO['video_page_url']})" in body
    assert "16 s" in body
    assert "> Hi Astrid\\! Revenue was 412,300 euros." in body


def test_a_body_without_urls_links_the_heygen_page_and_no_broken_image() -> None:
    body = review_body({"video_id": "abc123"})

    assert "![" not in body
    assert "Watch the video" not in body
    assert "[Open it in HeyGen](https://app.heygen.com/videos/abc123)" in body


def test_markdown_in_a_script_is_shown_as_written_and_urls_stay_whole() -> None:
    body = review_body({**VIDEO, "video_url": "https://files.example/a (1).mp4"}, "# *Big* [news](x)")

    assert "> \\# \\*Big\\* \\[news\\]\\(x\\)" in body
    assert "[Watch the video](https://files.example/a%20%281%29.mp4)" in body


def test_the_subject_names_the_video() -> None:
    assert review_subject(VIDEO) == 'Publish "Weekly figures: North"?'
    assert review_subject({"video_id": "abc123"}) == 'Publish "abc123"?'


def test_the_script_is_every_text_voice_of_the_request() -> None:
    scenes = [
        {"voice": {"type": "text", "input_text": "First."}},
        {"voice": {"type": "audio", "audio_url": "https://x/a.mp3"}},
        {"voice": {"type": "text", "input_text": "Second."}},
    ]
    assert spoken_script(scenes) == "First.\n\nSecond."
    assert spoken_script(None) == ""


def test_approved_and_stored_is_published_rejected_is_not() -> None:
    north, south = apply_reviews([outcome(), outcome(label="South", title="South")], [approved(), rejected()])

    assert north["status"] == PUBLISHED and north["reason"] is None and north["reviewed_by"] == "ada"
    assert south["status"] == REJECTED and south["files"] is None
    assert south["reason"] == "rejected by grace: not published"
    assert failed_rows([north, south]) == [], "a rejected row is not missing"


def test_an_unanswered_review_counts_as_rejected_by_nobody() -> None:
    [row] = apply_reviews([outcome(files=None)], [rejected(by=None)])

    assert row["status"] == REJECTED
    assert row["reason"] == "nobody answered before the review timed out: not published"


def test_approved_but_not_stored_and_not_reviewed_are_failures() -> None:
    not_stored, not_reviewed = apply_reviews(
        [outcome(files=None, reason="rendered, but not stored"), outcome(files=None)], [approved(), None]
    )

    assert "approved, but not stored" in not_stored["reason"]
    assert "review ended without an answer" in not_reviewed["reason"]
    assert failed_rows([not_stored, not_reviewed]) == [not_stored, not_reviewed]


def test_a_failed_render_keeps_its_reason_whatever_the_review() -> None:
    failed = outcome(status="failed", files=None, reason="code 40119: Video is too long")

    [row] = apply_reviews([failed], [None])

    assert row == failed


def test_the_summary_counts_published_rows_as_ready_and_lists_rejected_ones() -> None:
    rows = apply_reviews(
        [outcome(), outcome(label="South", title="South", video_id="def456")], [approved(), rejected()]
    )

    text = render_summary_text(rows, title="Reviewed")
    page = render_summary_html(rows)

    assert "2 videos: 1 ready, 1 rejected" in text
    assert "- Weekly figures: North: published, 16 s, s3://bucket/day/north.mp4" in text
    assert "- South: REJECTED: rejected by grace: not published, video def456" in text
    assert "2 videos: 1 ready, 1 rejected" in page
    assert 'class="status published"' in page and 'class="status rejected"' in page


def test_only_an_approve_answer_approves() -> None:
    assert is_approved(approved())
    assert not is_approved(rejected())
    assert not is_approved(rejected(by=None))
    assert not is_approved(None)
    assert not is_approved({"chosen_options": []})
