"""
What became of each row of a mapped campaign, read after every row has ended.

A row's render either returned a result (and was perhaps stored), or its task failed. A failed task
that got as far as submitting has pushed its ``video_id`` to XCom before waiting, so HeyGen itself is
asked why that video failed: the summary carries HeyGen's code and message, not a log excerpt. A row
without a video id failed before HeyGen accepted it (bad input, a refused create).

This module is imported when DAG files are parsed (through :mod:`heygen_provider.campaign.tasks`), so
the hook loads only when a failed row's video is asked about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from heygen_provider.exceptions import HeyGenError
from heygen_provider.links.heygen import XCOM_VIDEO_ID, XCOM_VIDEO_PAGE
from heygen_provider.vocabulary import DEFAULT_CONN_ID, RenderStatus

if TYPE_CHECKING:
    from heygen_provider.hooks.heygen import HeyGenHook

#: ``status`` of a row whose task failed before HeyGen returned a video id.
NOT_SUBMITTED = RenderStatus.NOT_SUBMITTED
#: ``status`` of a row a reviewer rejected, or nobody reviewed in time
#: (see :mod:`~heygen_provider.campaign.review`).
REJECTED = RenderStatus.REJECTED


def collect_row_outcomes(
    ti: Any,
    labels: Sequence[str],
    *,
    generate_task_id: str,
    download_task_id: str | None = None,
    heygen_conn_id: str = DEFAULT_CONN_ID,
    estimates: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """
    One outcome per row, in row order, from the XComs of the mapped generate and download tasks.

    Each outcome has the generate result's keys (``video_id``, ``status``, ``video_url``, ``duration``,
    ``error``, ...) and ``label`` (the row's name), ``title``, ``reason`` (why it has no video, else
    ``None``) and ``files`` (the download result, or ``None`` when nothing was stored).

    :param ti: the running task instance (``context["ti"]``) of a task downstream of both.
    :param labels: one name per row, in map index order (the map index is the position).
    :param generate_task_id: the mapped ``HeyGenGenerateVideoOperator`` (with its task group prefix).
    :param download_task_id: the mapped ``HeyGenDownloadVideoOperator``, if any.
    :param heygen_conn_id: the connection used to ask HeyGen about failed renders.
    :param estimates: the preflight's row estimates (:meth:`~heygen_provider.campaign.budget.CampaignEstimate.as_json`
        ``rows``), in row order: each outcome gets ``estimated_seconds`` and ``estimated_cost_usd``.
    """
    hook: HeyGenHook | None = None
    outcomes = []
    for index, label in enumerate(labels):
        result = ti.xcom_pull(task_ids=generate_task_id, map_indexes=index)
        files = ti.xcom_pull(task_ids=download_task_id, map_indexes=index) if download_task_id else None
        if result:
            outcome = {
                **result,
                "reason": _reason(result.get("error")) if result.get("status") != RenderStatus.SUCCESS else None,
            }
        else:
            video_id = ti.xcom_pull(task_ids=generate_task_id, map_indexes=index, key=XCOM_VIDEO_ID)
            if video_id:
                if hook is None:
                    from heygen_provider.hooks.heygen import HeyGenHook

                    hook = HeyGenHook(heygen_conn_id)
                outcome = _failed_render(hook, str(video_id))
                page = ti.xcom_pull(task_ids=generate_task_id, map_indexes=index, key=XCOM_VIDEO_PAGE)
                outcome["video_page_url"] = outcome.get("video_page_url") or page
            else:
                outcome = {
                    "video_id": None,
                    "status": NOT_SUBMITTED,
                    "reason": "the task failed before HeyGen accepted the video; its log says why",
                }
        outcome.update(label=label, title=outcome.get("title") or label, files=files or None)
        estimate = estimates[index] if estimates and index < len(estimates) else None
        if estimate and not estimate.get("problems"):
            outcome.update(estimated_seconds=estimate.get("seconds"), estimated_cost_usd=estimate.get("cost_usd"))
        if outcome["status"] == RenderStatus.SUCCESS and not files and download_task_id:
            outcome["reason"] = "rendered, but not stored: the download task failed; its log says why"
        outcomes.append(outcome)
    return outcomes


def _failed_render(hook: HeyGenHook, video_id: str) -> dict[str, Any]:
    try:
        status = hook.get_video_status(video_id)
    except HeyGenError as error:
        return {
            "video_id": video_id,
            "status": RenderStatus.UNKNOWN,
            "reason": f"HeyGen's status could not be read: {error}",
        }
    outcome = status.to_result()
    if status.is_success:
        # HeyGen finished after the task gave up (a deadline): the video exists but was not stored.
        outcome["reason"] = "HeyGen finished it after the task stopped waiting; it was not stored"
    elif not status.is_terminal:
        outcome["status"] = RenderStatus.TIMEOUT
        outcome["reason"] = f"still {status.service_status} at HeyGen when the task stopped waiting"
    else:
        outcome["reason"] = _reason(outcome.get("error"))
    return outcome


def _reason(error: Any) -> str:
    if not isinstance(error, dict) or not (error.get("code") or error.get("message")):
        return "HeyGen gave no reason"
    code = error.get("code")
    message = error.get("message") or error.get("detail") or ""
    return f"code {code}: {message}" if code is not None else str(message)


def failed_rows(outcomes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """
    The outcomes without a stored (or, without a download step, rendered) video; a row rejected in
    review has none on purpose and is not among them.
    """
    return [outcome for outcome in outcomes if outcome.get("reason") and outcome.get("status") != REJECTED]
