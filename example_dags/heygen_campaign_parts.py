"""
What the campaign examples share (``heygen_data_to_video``, ``heygen_review_before_publish``): the rows
and their requests, the params, the render and store steps of a row, the summary page and its e-mail.

No DAG is defined here: each example imports these parts (the dags folder is on ``sys.path``). The
``@task`` functions become tasks of whichever DAG calls them.
"""

from __future__ import annotations

import csv
import logging
import os
from pathlib import Path
from typing import Any

from airflow.sdk import Param, task

from heygen_provider.file_names import run_folder, unique_file_stems
from heygen_provider.links.heygen import XCOM_VIDEO_ID
from heygen_provider.operators.download import HeyGenDownloadVideoOperator
from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator
from heygen_provider.operators.render import HeyGenRenderOperator

log = logging.getLogger(__name__)
DATA_FILE = Path(__file__).parent / "data" / "weekly_figures.csv"
DEFAULT_OUTPUT_URI = os.environ.get("HEYGEN_OUTPUT_URI", "file:///tmp/heygen-videos")
# Renders take minutes, so 30 s polls cost little; the demo's emulator renders in seconds and polls faster.
POLL_INTERVAL = float(os.environ.get("HEYGEN_POLL_INTERVAL", "30"))
#: What every row's render shares: passed to the operator and to the preflight estimate alike.
RENDER_DEFAULTS: dict[str, Any] = {"dimension": "720p", "caption": True}


def rows_from_csv(rows_uri: str | None = None) -> list[dict[str, str]]:
    """The rows of the CSV ``rows_uri`` names (a path or an object storage URI), else of the bundled sample."""
    from airflow.sdk import ObjectStoragePath

    source = ObjectStoragePath(rows_uri) if rows_uri else DATA_FILE
    with source.open("r", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# [START howto_heygen_data_to_video_requests]
def requests_from_rows(rows: list[dict[str, str]], *, avatar_id: str, voice_id: str) -> list[dict[str, Any]]:
    """One request per row: the scene's script is written from the row's figures."""
    requests = []
    # The files are named after the row (north.mp4, north.jpg, ...), never two rows alike.
    file_stems = unique_file_stems(row["region"] for row in rows)
    for row, file_stem in zip(rows, file_stems, strict=True):
        change = float(row["change_pct"])
        trend = f"up {change:.1f} percent" if change >= 0 else f"down {abs(change):.1f} percent"
        script = (
            f"Hi {row['manager']}! Here is the {row['region']} region this week. "
            f"Revenue was {int(row['revenue_eur']):,} euros, {trend} on last week. "
            f"Your best seller was {row['top_product']}. Have a great week!"
        )
        requests.append(
            {
                "title": f"Weekly figures: {row['region']}",
                "file_stem": file_stem,
                "video_inputs": [
                    {
                        "character": {"type": "avatar", "avatar_id": avatar_id},
                        "voice": {"type": "text", "voice_id": voice_id, "input_text": script},
                        "background": {"type": "color", "value": "#0B3D91" if change >= 0 else "#7A1F1F"},
                    }
                ],
            }
        )
    return requests


# [END howto_heygen_data_to_video_requests]


def campaign_params() -> dict[str, Param]:
    """The params of a campaign run: who speaks, which rows, where the videos go, who is told."""
    return {
        "avatar_id": Param("Daisy-inskirt-20220818", type="string"),
        "voice_id": Param("2d5b0e6cf36f460aa7fc47e3eee4ba54", type="string"),
        "output_uri": Param(DEFAULT_OUTPUT_URI, type="string"),
        "output_conn_id": Param(
            os.environ.get("HEYGEN_OUTPUT_CONN_ID"),
            type=["null", "string"],
            description="The connection of an s3:// (gs://, ...) output_uri, e.g. aws_default",
        ),
        "notify_to": Param(
            os.environ.get("HEYGEN_NOTIFY_TO"),
            type=["null", "string"],
            description="E-mail the summary to these addresses (comma-separated); empty: no e-mail",
        ),
        "notify_from": Param(os.environ.get("HEYGEN_NOTIFY_FROM", "airflow@example.com"), type="string"),
        "smtp_conn_id": Param("smtp_default", type="string"),
        "rows_uri": Param(
            None,
            type=["null", "string"],
            description="The CSV to read (a path or an object storage URI); empty: the bundled sample",
        ),
        "max_cost": Param(
            float(os.environ["HEYGEN_MAX_COST"]) if os.environ.get("HEYGEN_MAX_COST") else None,
            type=["null", "number"],
            description="Refuse to render when the estimated cost is above this many USD; empty: only the "
            "account's remaining credit limits it",
        ),
    }


@task
def read_rows(params: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """The week's figures, one dict per region."""
    assert params is not None
    return rows_from_csv(params.get("rows_uri"))


@task
def storage_folder(dag_run: Any = None) -> str:
    """
    This run's folder below ``output_uri``: ``<day>/<run>``, a folder of its own, so two runs of one day
    (a scheduled and a manual one) never write over each other's videos and summary.
    """
    # Manually triggered runs have no logical date in Airflow 3: their day is the one they ran after.
    day = (dag_run.logical_date or dag_run.run_after).strftime("%Y-%m-%d")
    return run_folder(dag_run.run_id, day)


@task
def build_requests(rows: list[dict[str, str]], params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One request per row: the scene's script is written from the row's figures."""
    assert params is not None
    return requests_from_rows(rows, avatar_id=params["avatar_id"], voice_id=params["voice_id"])


# [START howto_heygen_budget_preflight]
@task(retries=0)
def preflight(
    requests: list[dict[str, Any]], defaults: dict[str, Any] | None = None, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """
    Every row validated and estimated, and the total checked against the budget; nothing paid.

    :param requests: the render operator's parameters per row (templated, like the operator's own).
    :param defaults: what every row's render shares (the operator's ``partial`` ones); the campaign's
        :data:`RENDER_DEFAULTS` when not given.
    """
    from heygen_provider.campaign.budget import preflight_campaign

    assert params is not None
    shared = RENDER_DEFAULTS if defaults is None else defaults
    estimate = preflight_campaign(requests, defaults=shared, max_cost=params.get("max_cost"))
    return estimate.as_json()


# [END howto_heygen_budget_preflight]


# [START howto_heygen_campaign_row_steps]
def generate_video(title: Any, video_inputs: Any) -> HeyGenGenerateVideoOperator:
    """A row's render, inside a mapped task group: it waits in the triggerer, not on a worker."""
    return HeyGenGenerateVideoOperator(
        task_id="generate_video",
        title=title,
        video_inputs=video_inputs,
        **RENDER_DEFAULTS,
        poll_interval=POLL_INTERVAL,
        deferrable=True,
        max_active_tis_per_dag=8,
        # The grid shows "Weekly figures: North" instead of a bare map index.
        map_index_template="{{ task.title }}",
    )


def store_video(video: HeyGenRenderOperator, file_stem: Any, folder: Any, **kwargs: Any) -> HeyGenDownloadVideoOperator:
    """
    A row's rendered video, its thumbnail and captions, streamed to
    ``<output_uri>/<folder>/<file_stem>.*``.

    :param video: the row's render (a generate or a template operator).
    :param file_stem: the row's file name, unique within the run (:func:`requests_from_rows`).
    :param folder: the run's folder (:func:`storage_folder`'s output).
    :param kwargs: more operator arguments (``task_id``, default ``download_video``; ``outlets``).
    """
    kwargs.setdefault("task_id", "download_video")
    store = HeyGenDownloadVideoOperator(
        video_id=video.output[XCOM_VIDEO_ID],
        video=video.output,
        # The output_uri param leads, so the UI knows from the DAG file whether the stored video can be
        # linked (a local folder cannot); the run's folder is the storage_folder task's result.
        destination="{{ params.output_uri }}/{{ ti.xcom_pull(task_ids='" + folder.operator.task_id + "') }}",
        destination_conn_id="{{ params.output_conn_id or '' }}",
        file_stem=file_stem,
        map_index_template="{{ task.file_stem }}",
        **kwargs,
    )
    folder >> store
    return store


# [END howto_heygen_campaign_row_steps]


def row_outcomes(ti: Any, requests: list[dict[str, Any]], *, group: str, store_task: str) -> list[dict[str, Any]]:
    """
    What became of each row (:func:`~heygen_provider.campaign.outcomes.collect_row_outcomes`), read
    by a task downstream of every row, with the preflight's estimates.

    :param ti: the reading task's instance.
    :param requests: the rows' requests, in row order.
    :param group: the mapped task group of the rows.
    :param store_task: the task of the group that stores a row's video.
    """
    from heygen_provider.campaign.outcomes import collect_row_outcomes

    return collect_row_outcomes(
        ti,
        [request["title"] for request in requests],
        generate_task_id=f"{group}.generate_video",
        download_task_id=f"{group}.{store_task}",
        # None when the preflight refused the run: the rows then say they were not submitted.
        estimates=(ti.xcom_pull(task_ids="preflight") or {}).get("rows"),
    )


def write_summary_page(
    outcomes: list[dict[str, Any]],
    params: dict[str, Any],
    dag_run: Any,
    folder: str,
    *,
    heading: str,
    subject: str,
) -> dict[str, Any]:
    """
    Write ``summary.html`` beside the videos and return what ``notify`` and ``every_row_stored`` need.

    :param outcomes: one per row (:func:`~heygen_provider.campaign.outcomes.collect_row_outcomes`).
    :param params: the run's params (``output_uri``, ``output_conn_id``).
    :param dag_run: the run (its day is in the heading).
    :param folder: the run's folder below ``output_uri`` (:func:`storage_folder`'s output).
    :param heading: the page's title, ``{day}`` replaced by the run's day.
    :param subject: the e-mail's subject, ``{day}`` replaced by the run's day.
    """
    from airflow.sdk import ObjectStoragePath

    from heygen_provider.campaign.outcomes import failed_rows
    from heygen_provider.campaign.summary import render_summary_html, render_summary_text
    from heygen_provider.links.heygen import without_connection

    day = (dag_run.logical_date or dag_run.run_after).strftime("%Y-%m-%d")
    videos = ObjectStoragePath(f"{params['output_uri']}/{folder}", conn_id=params["output_conn_id"] or None)
    # Nothing may have been stored yet (every row failed, or the preflight refused the run).
    videos.mkdir(parents=True, exist_ok=True)
    page = videos / "summary.html"
    page.write_text(render_summary_html(outcomes, folder=videos, title=heading.format(day=day)))
    location = without_connection(str(page))
    text = render_summary_text(outcomes, title=f"{heading.format(day=day)}: {location}")
    # Logged, not printed: Airflow stamps printed lines when it reads them, so in the UI a late one
    # could land after the task's own "Done" line.
    for line in text.splitlines():
        log.info("%s", line)
    failed = [row["label"] for row in failed_rows(outcomes)]
    return {"page": location, "day": day, "text": text, "failed": failed, "subject": subject.format(day=day)}


# [START howto_heygen_notify_email]
@task
def notify(summary: dict[str, Any], params: dict[str, Any] | None = None) -> None:
    """E-mails the summary (one line per row, with its links) through the smtp provider."""
    import html

    from airflow.providers.smtp.hooks.smtp import SmtpHook

    assert params is not None
    if not params.get("notify_to"):
        log.info("No notify_to param: the summary is not e-mailed.")
        return
    missing = f", {len(summary['failed'])} missing" if summary["failed"] else ""
    body = f'<p><a href="{html.escape(summary["page"])}">Summary page</a></p><pre>{html.escape(summary["text"])}</pre>'
    with SmtpHook(smtp_conn_id=params["smtp_conn_id"]) as smtp:
        smtp.send_email_smtp(
            to=params["notify_to"],
            from_email=params["notify_from"],
            subject=f"{summary['subject']}{missing}",
            html_content=body,
        )


# [END howto_heygen_notify_email]


# Without it the run would be green (its last task succeeded) with a row missing. Not retried: a
# retry reads the same outcomes.
@task(retries=0)
def every_row_stored(summary: dict[str, Any]) -> None:
    """Ends the run failed when a row has no stored video, after the summary has been written."""
    if summary["failed"]:
        raise RuntimeError(
            f"{len(summary['failed'])} row(s) without a stored video: {', '.join(summary['failed'])}; "
            f"see {summary['page']}"
        )
