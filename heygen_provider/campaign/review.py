"""
A person's review of rendered videos before they are published, with Airflow's human-in-the-loop
operators (``airflow.providers.standard.operators.hitl``, Airflow 3.1+).

What the reviewer reads (:func:`review_subject`, :func:`review_body`: the thumbnail, the links, the
script), and what became of each row once reviewed (:func:`apply_reviews`). Nothing here imports the
HITL operators, so the provider works on an Airflow without them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from heygen_provider.campaign.outcomes import REJECTED
from heygen_provider.campaign.summary import one_line
from heygen_provider.links.heygen import video_page_url
from heygen_provider.vocabulary import RenderStatus

#: The options of ``ApprovalOperator`` (``ApprovalOperator.APPROVE`` and ``.REJECT``).
APPROVE = "Approve"
REJECT = "Reject"
#: ``status`` of a row approved and stored at the output location.
PUBLISHED = RenderStatus.PUBLISHED

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~-])")


def review_subject(video: Mapping[str, Any]) -> str:
    """
    The review's headline: ``Publish "Weekly figures: North"?``, on one line whatever the title holds.

    :param video: the generate operator's result (``title``, ``video_id``, ...).
    """
    return one_line(f'Publish "{video.get("title") or video.get("video_id")}"?')


def review_body(video: Mapping[str, Any], script: str | None = None) -> str:
    """
    What the reviewer sees, in Markdown (the HITL ``body``): the thumbnail linked to the video, a link
    to watch it and one to its HeyGen page, its duration and the script it speaks.

    HeyGen's video and thumbnail links are signed and expire after seven days; keep the review's
    timeout shorter.

    :param video: the generate operator's result (``video_url``, ``thumbnail_url``,
        ``video_page_url``, ``duration``, ``video_id``).
    :param script: the text the avatar speaks, quoted below the links.
    """
    video_id = str(video.get("video_id"))
    watch = str(video.get("video_url") or "")
    page = str(video.get("video_page_url") or video_page_url(video_id))
    lines = []
    if video.get("thumbnail_url"):
        lines += [f"[![Thumbnail of {_text(video_id)}]({_url(video['thumbnail_url'])})]({_url(watch or page)})", ""]
    links = [f"[Watch the video]({_url(watch)})"] if watch else []
    links.append(f"[Open it in HeyGen]({_url(page)})")
    lines.append(" · ".join(links))
    duration = video.get("duration")
    details = f"Video `{video_id}`" + (f", {float(duration):.0f} s" if duration is not None else "")
    lines += ["", details + "."]
    if script:
        lines += ["", "Script:", "", *(f"> {_text(line)}" if line else ">" for line in script.splitlines())]
    lines += ["", f"**{APPROVE}** stores it at the output location and announces it; **{REJECT}** does not."]
    return "\n".join(lines)


def spoken_script(video_inputs: Sequence[Mapping[str, Any]] | None) -> str:
    """
    The text the avatar speaks in a request's scenes (their text voices), one scene a paragraph.

    :param video_inputs: the request's ``video_inputs``.
    """
    texts = [
        str(scene["voice"]["input_text"])
        for scene in video_inputs or ()
        if isinstance(scene.get("voice"), Mapping) and scene["voice"].get("input_text")
    ]
    return "\n\n".join(texts)


def is_approved(review: Mapping[str, Any] | None) -> bool:
    """
    Whether a review's answer (what the HITL operator returned) is ``Approve``.

    :param review: the review's result: ``chosen_options`` and who answered; ``None``: no answer.
    """
    return APPROVE in ((review or {}).get("chosen_options") or [])


def apply_reviews(
    outcomes: Sequence[Mapping[str, Any]], reviews: Sequence[Mapping[str, Any] | None]
) -> list[dict[str, Any]]:
    """
    The row outcomes once reviewed: an approved and stored row is ``published``, a rejected one
    ``rejected`` (with who rejected it, or that nobody answered in time), and a rendered row without a
    review answer or without its stored files says why it was not published.

    :param outcomes: from :func:`~heygen_provider.campaign.outcomes.collect_row_outcomes`, with the
        publish step as its download task.
    :param reviews: each row's review result (what the HITL operator returned: ``chosen_options``,
        ``responded_by_user``), in row order; ``None`` for a row whose review gave no answer.
    """
    reviewed = []
    for index, outcome in enumerate(outcomes):
        row = dict(outcome)
        review = reviews[index] if index < len(reviews) else None
        if row.get("status") != RenderStatus.SUCCESS:
            # Not rendered: the review never ran, and the row already says why it has no video.
            reviewed.append(row)
            continue
        chosen = list((review or {}).get("chosen_options") or [])
        reviewer = (review or {}).get("responded_by_user")
        row["reviewed_by"] = _reviewer(reviewer)
        if review is None:
            row["reason"] = "rendered, but the review ended without an answer (its log says why): not published"
        elif REJECT in chosen:
            row["status"] = REJECTED
            row["files"] = None
            row["reason"] = (
                f"rejected by {row['reviewed_by']}: not published"
                if reviewer
                else "nobody answered before the review timed out: not published"
            )
        elif row.get("files"):
            row["status"] = PUBLISHED
            row["reason"] = None
        else:
            row["reason"] = "approved, but not stored: the publish task failed; its log says why"
        reviewed.append(row)
    return reviewed


def _reviewer(user: Any) -> str | None:
    if not isinstance(user, Mapping):
        return None
    return str(user.get("name") or user.get("id") or "") or None


def _text(value: Any) -> str:
    """Markdown-escaped text: a title or a script line is shown as written."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value))


def _url(value: Any) -> str:
    # A URL inside (...) ends at the first unescaped space or ")": percent-encode both.
    return str(value).replace(" ", "%20").replace("(", "%28").replace(")", "%29")
