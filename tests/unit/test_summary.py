"""The HTML summary written by the data-to-video example's notify step."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from heygen_provider.campaign.summary import render_summary_html, render_summary_text

FOLDER = "file:///videos/2026-11-24"


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(page)
    return parser.tags


def test_stored_files_are_linked_relative_to_the_page_and_signed_urls_are_the_fallback() -> None:
    videos = [
        {
            "video_id": "a1",
            "status": "success",
            "video_url": "https://cdn/a1.mp4?sig",
            "thumbnail_url": "https://cdn/a1.jpg",
            "duration": 12.4,
        },
        {
            "video_id": "b2",
            "status": "success",
            "video_url": "https://cdn/b2.mp4?sig",
            "thumbnail_url": "https://cdn/b2.jpg",
        },
    ]
    files = [{"video_id": "a1", "video_path": f"{FOLDER}/a1.mp4", "thumbnail_path": f"{FOLDER}/a1.jpg"}]

    tags = parse(render_summary_html(videos, files, folder=FOLDER))

    images = [attributes["src"] for tag, attributes in tags if tag == "img"]
    assert images == ["a1.jpg", "https://cdn/b2.jpg"]
    links = [attributes["href"] for tag, attributes in tags if tag == "a"]
    assert "a1.mp4" in links and "https://cdn/b2.mp4?sig" in links
    assert "https://app.heygen.com/videos/a1" in links


def test_counts_duration_and_status_of_every_video() -> None:
    page = render_summary_html(
        [
            {"video_id": "a", "status": "success", "duration": 61.6},
            {"video_id": "b", "status": "failed"},
        ]
    )

    assert "2 videos: 1 ready, 1 failed" in page
    assert "62 s" in page and "duration unknown" in page
    assert 'class="status failed"' in page


def test_the_time_a_row_waited_for_a_render_slot_is_shown_beside_its_render_time() -> None:
    rows = [
        {"video_id": "a", "status": "success", "duration": 42.0, "slot_wait_seconds": 95.4},
        {"video_id": "b", "status": "success", "duration": 40.0, "slot_wait_seconds": 0.0},
        {"video_id": "c", "status": "success", "duration": 41.0, "slot_wait_seconds": 30.0, "estimated_seconds": 38},
    ]

    page, text = render_summary_html(rows), render_summary_text(rows)

    assert "42 s, 95 s waiting for a render slot" in page and "42 s, 95 s waiting for a render slot" in text
    assert "&middot; 40 s<br>" in page
    assert text.count("waiting for a render slot") == 2, "a row that did not wait says nothing of it"
    assert "41 s (estimated 38 s), 30 s waiting for a render slot" in text


def test_a_video_without_thumbnail_gets_no_broken_image() -> None:
    tags = parse(render_summary_html([{"video_id": "a", "status": "failed"}]))

    assert [tag for tag, _ in tags if tag == "img"] == []


def test_titles_are_escaped() -> None:
    page = render_summary_html([{"video_id": "a", "status": "success", "title": "<script>alert(1)</script>"}])

    assert "<script>" not in page
    assert "&lt;script&gt;" in page


FAILED_ROW = {
    "video_id": "bad1",
    "status": "failed",
    "title": "Weekly figures: Atlantis",
    "reason": "code 40119: Video is too long (> 180.0s)",
}
STORED_ROW = {
    "video_id": "a1",
    "status": "success",
    "title": "Weekly figures: North",
    "video_url": "https://cdn/a1.mp4?sig",
    "duration": 12.0,
    "files": {"video_id": "a1", "video_path": f"{FOLDER}/north.mp4", "thumbnail_path": f"{FOLDER}/north.jpg"},
}


def test_a_failed_row_shows_heygens_reason_and_its_video_id() -> None:
    page = render_summary_html([STORED_ROW, FAILED_ROW], folder=FOLDER)

    assert "code 40119: Video is too long (&gt; 180.0s) (video bad1)" in page
    assert page.count('class="reason"') == 1
    assert "2 videos: 1 ready, 1 failed" in page


def test_a_row_that_was_never_submitted_names_no_video() -> None:
    page = render_summary_html([{"video_id": None, "status": "not_submitted", "reason": "refused", "title": "X"}])

    assert "refused</span>" in page
    assert "(video" not in page


def test_a_rows_own_stored_files_are_linked() -> None:
    tags = parse(render_summary_html([STORED_ROW], folder=FOLDER))

    assert [attributes["src"] for tag, attributes in tags if tag == "img"] == ["north.jpg"]
    assert "north.mp4" in [attributes["href"] for tag, attributes in tags if tag == "a"]


def test_the_text_summary_has_one_line_per_row_with_its_link() -> None:
    text = render_summary_text([STORED_ROW, FAILED_ROW], title="Weekly videos")

    lines = text.splitlines()
    assert lines[:2] == ["Weekly videos", "2 videos: 1 ready, 1 failed"]
    assert lines[2] == (
        f"- Weekly figures: North: success, 12 s, {FOLDER}/north.mp4 (https://app.heygen.com/videos/a1)"
    )
    assert lines[3] == (
        "- Weekly figures: Atlantis: FAILED: code 40119: Video is too long (> 180.0s), video bad1"
        " (https://app.heygen.com/videos/bad1)"
    )


@pytest.mark.parametrize(
    ("statuses", "line"),
    [
        (["success"] * 4, "4 videos: 4 ready"),
        (["success", "failed", "success", "success"], "4 videos: 3 ready, 1 failed"),
        (["success"], "1 video: 1 ready"),
        (["failed"], "1 video: 1 failed"),
        (["not_submitted", "success", "rejected", "published"], "4 videos: 2 ready, 1 not submitted, 1 rejected"),
        ([], "0 videos"),
    ],
    ids=["all-ready", "one-failed", "one-ready", "one-failed-only", "mixed", "none"],
)
def test_the_count_line_reads_as_a_sentence(statuses: list[str], line: str) -> None:
    rows = [{"video_id": str(index), "status": status} for index, status in enumerate(statuses)]

    assert render_summary_text(rows, title="Weekly videos").splitlines()[1] == line
    assert f"<p>{line}</p>" in render_summary_html(rows)


def test_a_ready_status_with_a_reason_counts_as_failed() -> None:
    rows = [STORED_ROW, {**STORED_ROW, "video_id": "b2", "reason": "rendered, but not stored"}]

    assert render_summary_text(rows).splitlines()[1] == "2 videos: 1 ready, 1 failed"
