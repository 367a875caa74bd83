"""
The tasks a campaign DAG is built from: one HeyGen video per row of a table, each stored beside the
others, then a summary page, an e-mail and a verdict on the run.

The ``@task`` functions become tasks of whichever DAG calls them. They read the run's params by these
names (declare the ones your DAG uses):

* ``output_uri``: where the videos go (a local ``file://`` folder, ``s3://bucket/prefix``, ``gs://...``);
* ``output_conn_id``: the connection of a bucket ``output_uri`` (``None``: none);
* ``max_cost``: refuse to render above this many USD (``None``: only the account's credit limits it);
* ``notify_to``, ``notify_from``, ``smtp_conn_id``: who is e-mailed the summary, by whom, through which
  SMTP connection (``notify_to`` empty: no e-mail).

The mapped task group of the rows renders each row and stores it (:func:`store_video`); a task
downstream of every row reads what became of them (:func:`row_outcomes`), writes the summary page
(:func:`write_summary_page`), and hands it to ``notify`` and ``every_row_stored``.
"""

from __future__ import annotations

import csv
import html
import logging
from pathlib import Path
from typing import Any

from airflow.sdk import ObjectStoragePath, task

from heygen_provider.campaign.budget import preflight_campaign
from heygen_provider.campaign.outcomes import collect_row_outcomes, failed_rows
from heygen_provider.campaign.summary import render_summary_html, render_summary_text
from heygen_provider.file_names import run_folder
from heygen_provider.links.heygen import XCOM_VIDEO_ID, without_connection
from heygen_provider.operators.download import HeyGenDownloadVideoOperator
from heygen_provider.operators.render import HeyGenRenderOperator

log = logging.getLogger(__name__)


def rows_from_csv(source: str | Path) -> list[dict[str, str]]:
    """
    The rows of a CSV file, one dict per row keyed by the header.

    :param source: a local path, or an object storage URI (``s3://...``, with its provider installed).
    """
    readable: Path | ObjectStoragePath = ObjectStoragePath(source) if isinstance(source, str) else Path(source)
    with readable.open("r", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@task
def storage_folder(dag_run: Any = None) -> str:
    """
    This run's folder below ``output_uri``: ``<day>/<run>``, a folder of its own, so two runs of one day
    (a scheduled and a manual one) never write over each other's videos and summary.
    """
    # Manually triggered runs have no logical date in Airflow 3: their day is the one they ran after.
    day = (dag_run.logical_date or dag_run.run_after).strftime("%Y-%m-%d")
    return run_folder(dag_run.run_id, day)


# [START howto_heygen_budget_preflight]
@task(retries=0)
def preflight(
    requests: list[dict[str, Any]], defaults: dict[str, Any] | None = None, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """
    Every row validated and estimated, and the total checked against the budget; nothing paid.

    :param requests: the render operator's parameters per row (templated, like the operator's own).
    :param defaults: what every row's render shares (the operator's ``partial`` ones); none when not given.
    """
    assert params is not None
    estimate = preflight_campaign(requests, defaults=defaults or {}, max_cost=params.get("max_cost"))
    return estimate.as_json()


# [END howto_heygen_budget_preflight]


# [START howto_heygen_campaign_store_video]
def store_video(video: HeyGenRenderOperator, file_stem: Any, folder: Any, **kwargs: Any) -> HeyGenDownloadVideoOperator:
    """
    A row's rendered video, its thumbnail and captions, streamed to
    ``<output_uri>/<folder>/<file_stem>.*``.

    :param video: the row's render (a generate or a template operator).
    :param file_stem: the row's file name, unique within the run
        (:func:`~heygen_provider.file_names.unique_file_stems`).
    :param folder: the run's folder (``storage_folder``'s output).
    :param kwargs: more operator arguments (``task_id``, default ``download_video``; ``outlets``).
    """
    kwargs.setdefault("task_id", "download_video")
    # The render's result, resolved when the download runs (Airflow types it as a bare XComArg).
    rendered: Any = video.output
    store = HeyGenDownloadVideoOperator(
        video_id=rendered[XCOM_VIDEO_ID],
        video=rendered,
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


# [END howto_heygen_campaign_store_video]


def row_outcomes(ti: Any, requests: list[dict[str, Any]], *, group: str, store_task: str) -> list[dict[str, Any]]:
    """
    What became of each row (:func:`~heygen_provider.campaign.outcomes.collect_row_outcomes`), read
    by a task downstream of every row, with the ``preflight`` task's estimates.

    :param ti: the reading task's instance.
    :param requests: the rows' requests, in row order.
    :param group: the mapped task group of the rows; its render task is ``generate_video``.
    :param store_task: the task of the group that stores a row's video.
    """
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
    Write ``summary.html`` beside the videos and return what ``notify`` and
    ``every_row_stored`` need.

    :param outcomes: one per row (:func:`~heygen_provider.campaign.outcomes.collect_row_outcomes`).
    :param params: the run's params (``output_uri``, ``output_conn_id``).
    :param dag_run: the run (its day is in the heading).
    :param folder: the run's folder below ``output_uri`` (``storage_folder``'s output).
    :param heading: the page's title, ``{day}`` replaced by the run's day.
    :param subject: the e-mail's subject, ``{day}`` replaced by the run's day.
    """
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
    # Imported when it runs: the smtp provider is optional, and a DAG that never e-mails must still parse.
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
