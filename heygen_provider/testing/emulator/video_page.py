"""``GET /videos/<id>``: the emulator's stand-in for a video's page in HeyGen's web app.

The provider links a task to its video's page; against the emulator that link opens this page, which
shows the video's title, status, HeyGen's error for a failed render, and the video itself once
rendered. Like HeyGen's web app it is for people, not clients: no API key, HTML only.
"""

from __future__ import annotations

import html
import re
from typing import Any

from heygen_provider.testing.emulator.messages import HttpResponse

PATH = re.compile(r"^/videos/([0-9a-f]{32})$")

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - HeyGen emulator</title></head>
<body style="font-family: system-ui, sans-serif; margin: 2rem">
<h1>{title}</h1>
<p>Video <code>{video_id}</code>: <strong>{status}</strong>{duration}</p>
{body}
<p><small>Served by the local HeyGen emulator.</small></p>
</body></html>
"""


def render_video_page(video: dict[str, Any] | None, video_id: str) -> HttpResponse:
    """The page of ``video`` as ``GET /v3/videos/{id}`` shows it, or a 404 page when it is unknown.

    :param video: the video's v3 representation, or ``None``.
    :param video_id: the id asked for.
    """
    if video is None:
        page = _PAGE.format(
            title="Video not found", video_id=html.escape(video_id), status="unknown", duration="", body=""
        )
        return HttpResponse(404, page.encode(), content_type="text/html; charset=utf-8")
    if video.get("failure_code") or video.get("failure_message"):
        body = f"<p>{html.escape(str(video.get('failure_code')))}: {html.escape(str(video.get('failure_message')))}</p>"
    elif video.get("video_url"):
        poster = f' poster="{html.escape(video["thumbnail_url"])}"' if video.get("thumbnail_url") else ""
        body = f'<video controls width="640" src="{html.escape(video["video_url"])}"{poster}></video>'
    else:
        body = "<p>Not rendered yet: reload this page later.</p>"
    duration = f", {float(video['duration']):.0f} s" if video.get("duration") is not None else ""
    page = _PAGE.format(
        title=html.escape(str(video.get("title") or "Untitled video")),
        video_id=html.escape(video_id),
        status=html.escape(str(video.get("status"))),
        duration=duration,
        body=body,
    )
    return HttpResponse(200, page.encode(), content_type="text/html; charset=utf-8")
