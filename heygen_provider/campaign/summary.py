"""An HTML summary of a batch of rendered videos: what a person would rather look at than read."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

from heygen_provider.links.heygen import video_page_url, without_connection
from heygen_provider.vocabulary import RenderStatus

#: A row with one of these statuses (and no ``reason``) has its video: rendered, or published after review.
READY_STATUSES = (RenderStatus.SUCCESS, RenderStatus.PUBLISHED)
#: Control characters (every one ``str.splitlines()`` splits on among them: ``\n``, ``\r``, ``\v``,
#: ``\f``, ``\x1c``-``\x1e``, ``\x85``) and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; background: #fafafa; color: #222; }}
h1 {{ font-weight: 600; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 1.25rem; }}
.card {{ background: #fff; border-radius: 10px; box-shadow: 0 1px 4px rgba(0,0,0,.12); overflow: hidden; }}
.card img, .card .no-thumbnail {{ width: 100%; aspect-ratio: 16 / 9; object-fit: cover; background: #ddd;
  display: block; }}
.card .no-thumbnail {{ display: flex; align-items: center; justify-content: center; color: #777; }}
.card div {{ padding: .75rem 1rem; }}
.status {{ font-weight: 600; text-transform: uppercase; font-size: .8rem; }}
.success, .published {{ color: #17803d; }} .rejected {{ color: #6b6b6b; }}
.failed, .cancelled, .error, .timeout, .not_submitted {{ color: #b42318; }}
.reason {{ color: #b42318; font-size: .9rem; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>{counts}</p>
<div class="grid">
{cards}
</div>
</body>
</html>
"""

_CARD = """<div class="card">
<a href="{video_href}">{thumbnail}</a>
<div>
<strong>{label}</strong><br>
<span class="status {status}">{status}</span> &middot; {duration}<br>
{reason}<a href="{video_href}">Watch</a> &middot; <a href="{page_href}">Open in HeyGen</a>
</div>
</div>"""


def render_summary_html(
    videos: Iterable[Mapping[str, Any]],
    files: Iterable[Mapping[str, Any]] = (),
    *,
    folder: Any = None,
    title: str = "HeyGen videos",
) -> str:
    """
    Render the summary page.

    :param videos: results of ``HeyGenGenerateVideoOperator`` (``video_id``, ``status``, ``video_url``,
        ``thumbnail_url``, ``duration``, ...), or the row outcomes of
        :func:`~heygen_provider.campaign.outcomes.collect_row_outcomes`, whose ``reason`` (why a
        row has no video: HeyGen's code and message) is shown with the video id, and whose ``files``
        are linked like ``files``.
    :param files: results of ``HeyGenDownloadVideoOperator``; stored files are linked instead of HeyGen's
        signed URLs, which expire after seven days.
    :param folder: the folder the page is written to; files in it are linked by relative name.
    :param title: the page title.
    """
    stored = {str(item.get("video_id")): item for item in files if item}
    cards = []
    rows = list(videos)
    for video in rows:
        video_id = str(video.get("video_id"))
        local = stored.get(video_id) or video.get("files") or {}
        status = str(video.get("status", RenderStatus.UNKNOWN))
        cards.append(
            _CARD.format(
                label=html.escape(str(video.get("title") or video_id)),
                status=html.escape(status),
                duration=html.escape(duration_text(video) or "duration unknown"),
                reason=_reason_line(video.get("reason"), video.get("video_id")),
                video_href=html.escape(_href(local.get("video_path"), folder) or str(video.get("video_url") or "")),
                thumbnail=_thumbnail(
                    _href(local.get("thumbnail_path"), folder) or video.get("thumbnail_url"), label=video_id
                ),
                page_href=html.escape(video.get("video_page_url") or video_page_url(video_id)),
            )
        )
    return _PAGE.format(title=html.escape(title), counts=html.escape(count_outcomes(rows)), cards="\n".join(cards))


def is_ready(row: Mapping[str, Any]) -> bool:
    """The row has its video: rendered (or published after a review) and no reason why not."""
    return row.get("status") in READY_STATUSES and not row.get("reason")


def count_outcomes(rows: Iterable[Mapping[str, Any]]) -> str:
    """
    The batch in one line: ``"4 videos: 4 ready"``, ``"4 videos: 3 ready, 1 failed"``, ``"1 video: 1
    rejected"``; the rows without their video counted by status, in the order they first appear.
    """
    counts: dict[str, int] = {}
    total = 0
    for row in rows:
        total += 1
        if is_ready(row):
            outcome = "ready"
        else:
            status = str(row.get("status") or RenderStatus.UNKNOWN)
            # A row that says success but carries a reason did not get its video.
            outcome = RenderStatus.FAILED.value if status in READY_STATUSES else status.replace("_", " ")
        counts[outcome] = counts.get(outcome, 0) + 1
    ordered = sorted(counts.items(), key=lambda item: item[0] != "ready")
    parts = ", ".join(f"{count} {outcome}" for outcome, count in ordered)
    videos = f"{total} {'video' if total == 1 else 'videos'}"
    return f"{videos}: {parts}" if parts else videos


def duration_text(row: Mapping[str, Any]) -> str:
    """
    ``"42 s"``, with the preflight's estimate beside it when there is one (``"42 s (estimated 38 s,
    $2.53)"``) and the time the row waited for a HeyGen render slot when it did (``"42 s, 95 s waiting
    for a render slot"``, the result's ``slot_wait_seconds``); ``""`` when none is known.
    """
    duration, estimated = row.get("duration"), row.get("estimated_seconds")
    actual = f"{float(duration):.0f} s" if duration is not None else ""
    waited = row.get("slot_wait_seconds")
    waited = float(waited) if isinstance(waited, (int, float)) else 0.0
    slot_wait = f", {waited:.0f} s waiting for a render slot" if waited >= 0.5 else ""
    if estimated is None:
        return f"{actual or 'no video'}{slot_wait}" if slot_wait else actual
    cost = row.get("estimated_cost_usd")
    priced = f", ${float(cost):.2f}" if cost is not None else ""
    return f"{actual or 'no video'} (estimated {float(estimated):.0f} s{priced}){slot_wait}"


def _reason_line(reason: Any, video_id: Any) -> str:
    if not reason:
        return ""
    of_video = f" (video {html.escape(str(video_id))})" if video_id else ""
    return f'<span class="reason">{html.escape(str(reason))}{of_video}</span><br>'


def _thumbnail(source: str | None, *, label: str) -> str:
    # A failed render has no thumbnail: an empty <img> would show a broken-image icon.
    if not source:
        return '<span class="no-thumbnail">no thumbnail</span>'
    return f'<img src="{html.escape(str(source))}" alt="Thumbnail of {html.escape(label)}">'


def _href(path: str | None, folder: Any) -> str | None:
    if not path:
        return None
    prefix = str(folder).rstrip("/") + "/" if folder is not None else None
    if prefix and path.startswith(prefix):
        return path[len(prefix) :]
    return path


def one_line(text: Any) -> str:
    """
    ``text`` as one line: each control character and line separator is written as its Python escape
    (``\\n``, ``\\u2028``), so a title, a path or HeyGen's message cannot add a line to a log or an
    e-mail, and the reader sees what the value held.
    """
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), str(text))


def render_summary_text(videos: Iterable[Mapping[str, Any]], *, title: str = "HeyGen videos") -> str:
    """
    The summary as plain text, one line per row: for a log, or the text part of an e-mail. Whatever a
    field holds (a title, HeyGen's message, a path), each row stays on its line (:func:`one_line`).

    :param videos: as for :func:`render_summary_html`; a row's stored video (``files``) is linked in
        preference to HeyGen's signed URL.
    :param title: the first line.
    """
    rows = list(videos)
    lines = [one_line(title), one_line(count_outcomes(rows))]
    for row in rows:
        video_id = row.get("video_id")
        label = row.get("title") or video_id
        page = f" ({row.get('video_page_url') or video_page_url(str(video_id))})" if video_id else ""
        status = row.get("status", RenderStatus.UNKNOWN)
        if row.get("reason"):
            of_video = f", video {video_id}" if video_id else ""
            lines.append(one_line(f"- {label}: {str(status).upper()}: {row['reason']}{of_video}{page}"))
            continue
        files = row.get("files") or {}
        where = without_connection(str(files.get("video_path") or row.get("video_url") or "no link"))
        seconds = f", {duration_text(row)}" if duration_text(row) else ""
        lines.append(one_line(f"- {label}: {status}{seconds}, {where}{page}"))
    return "\n".join(lines)
