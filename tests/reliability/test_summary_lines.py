"""
The text summary has one line per row, whatever a title contains (issue 27, item 11).

A title (row data: a CSV a customer filled in), HeyGen's error message, a video id or a path with a line
break (``\\n``, ``\\r``, ``\\x85``, ``\\u2028``... every separator ``str.splitlines()`` splits on) used to
forge a row line in the log and the e-mail. Hypothesis writes the fields; the summary, the budget's
estimate and the log lines of the campaign examples' summary step keep one line per row, and show the
breaks as escapes so the reader sees what the value held.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heygen_provider.campaign.budget import CampaignEstimate, RowEstimate, invalid_row
from heygen_provider.campaign.review import review_subject
from heygen_provider.campaign.summary import one_line, render_summary_text

#: Every character str.splitlines() splits on, and a few other controls (an escape, a tab, a NUL).
LINE_BREAKS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
OTHER_CONTROLS = ["\x1b[2K", "\t", "\x00"]
#: Pieces of addresses: a link or a path is shown without its connection id, and an odd one must not crash.
ADDRESS_PIECES = ["https://", "s3://", "aws_default@", "[", "]", "/"]
FORGED = "\n- South: success, 42 s, s3://videos/south.mp4"

texts = st.lists(
    st.one_of(st.sampled_from(LINE_BREAKS + OTHER_CONTROLS + ADDRESS_PIECES), st.characters(), st.text(max_size=6)),
    max_size=10,
).map("".join)
optional_texts = st.one_of(st.none(), texts)


@st.composite
def outcome_rows(draw: st.DrawFn) -> dict[str, Any]:
    row: dict[str, Any] = {
        "title": draw(texts),
        "video_id": draw(optional_texts),
        "status": draw(st.sampled_from(["success", "published", "failed", "timeout", "not_submitted", "rejected"])),
        "reason": draw(optional_texts),
        "video_url": draw(optional_texts),
        "duration": draw(st.one_of(st.none(), st.floats(0, 3600))),
    }
    if draw(st.booleans()):
        row["files"] = {"video_path": draw(texts)}
    if draw(st.booleans()):
        row["video_page_url"] = draw(texts)
    return row


def assert_one_line_per_row(text: str, rows: int, header_lines: int) -> list[str]:
    lines = text.splitlines()
    assert len(lines) == header_lines + rows, lines
    assert all(line.startswith("- ") for line in lines[header_lines:]), lines
    return lines


class TestTheTextSummary:
    def test_a_title_with_a_newline_forges_no_row(self) -> None:
        rows = [{"title": "North" + FORGED, "video_id": "v1", "status": "failed", "reason": "HeyGen said:\nno"}]

        lines = assert_one_line_per_row(render_summary_text(rows), rows=1, header_lines=2)

        assert lines[2].startswith("- North\\n- South: success, 42 s, s3://videos/south.mp4: FAILED: HeyGen said:\\nno")

    @pytest.mark.parametrize("address", ["https://[cdn.example.com/a.mp4", "s3://aws_default@[bucket/a.mp4\n- x"])
    def test_an_address_that_is_no_valid_url_is_shown_as_given(self, address: str) -> None:
        rows = [{"title": "North", "video_id": "v1", "status": "success", "files": {"video_path": address}}]

        lines = assert_one_line_per_row(render_summary_text(rows), rows=1, header_lines=2)

        assert one_line(address) in lines[2]  # was ValueError("Invalid IPv6 URL") from urlsplit

    @settings(max_examples=300, deadline=None)
    @given(rows=st.lists(outcome_rows(), max_size=6), title=texts)
    def test_every_row_is_one_line_whatever_its_fields_hold(self, rows: list[dict[str, Any]], title: str) -> None:
        text = render_summary_text(rows, title=title)

        lines = assert_one_line_per_row(text, rows=len(rows), header_lines=2)
        assert lines[0] == one_line(title)
        for line, row in zip(lines[2:], rows, strict=True):
            label = row["title"] or row["video_id"]
            assert line.startswith(f"- {one_line(label)}: ")

    @given(value=texts)
    def test_one_line_breaks_nothing_and_changes_only_controls(self, value: str) -> None:
        line = one_line(value)

        assert len(f"<{line}>".splitlines()) == 1
        assert not any(unicodedata.category(character) in ("Cc", "Zl", "Zp") for character in line)
        if not any(unicodedata.category(character) in ("Cc", "Zl", "Zp") for character in value):
            assert line == value  # text without controls is shown as written


class TestNeighbours:
    @settings(max_examples=200, deadline=None)
    @given(labels=st.lists(texts, max_size=6), problems=st.lists(texts, min_size=1, max_size=2))
    def test_the_budget_estimate_logs_one_line_per_row(self, labels: list[str], problems: list[str]) -> None:
        rows = tuple(
            invalid_row(label, problems) if index % 2 else RowEstimate(label, seconds=60, cost_usd=4.0, engine="x")
            for index, label in enumerate(labels)
        )

        assert_one_line_per_row(CampaignEstimate(rows=rows).describe(), rows=len(rows), header_lines=1)

    def test_the_review_headline_is_one_line(self) -> None:
        assert review_subject({"title": "North" + FORGED}).splitlines() == [
            'Publish "North\\n- South: success, 42 s, s3://videos/south.mp4"?'
        ]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(titles=st.lists(texts, min_size=1, max_size=4))
def test_the_campaign_summary_step_logs_one_line_per_row(
    titles: list[str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``write_summary_page``, as the campaign examples run it: each logged line is one line, a row each."""
    from heygen_provider.campaign.tasks import write_summary_page

    outcomes = [
        {"label": title, "title": title, "video_id": f"v{index}", "status": "failed", "reason": "HeyGen said:\nno"}
        for index, title in enumerate(titles)
    ]
    dag_run = SimpleNamespace(
        logical_date=datetime(2026, 12, 7, tzinfo=timezone.utc),
        run_after=datetime(2026, 12, 7, tzinfo=timezone.utc),
        run_id="manual__2026-12-07",
    )
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="heygen_provider.campaign.tasks"):
        summary = write_summary_page(
            outcomes,
            {"output_uri": tmp_path.as_uri(), "output_conn_id": None},
            dag_run,
            "2026-12-07/manual",
            heading="Weekly videos {day}",
            subject="Weekly videos {day}",
        )

    logged = [record.getMessage() for record in caplog.records if record.name == "heygen_provider.campaign.tasks"]
    assert len(logged) == 2 + len(titles), logged
    assert all(len(line.splitlines()) == 1 for line in logged)
    assert len(summary["text"].splitlines()) == 2 + len(titles)


def test_a_video_id_with_a_lone_surrogate_still_gets_a_page_link() -> None:
    """JSON can carry ``\\ud800``; the summary's link to the video's page must not crash on it (found by hypothesis)."""
    from heygen_provider.links.heygen import video_page_url

    for base_url in (None, "http://127.0.0.1:8080"):
        assert video_page_url("a\ud800b", base_url).isascii()
