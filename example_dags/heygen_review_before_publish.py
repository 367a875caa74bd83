"""
Review before publish: each rendered video waits for a person's approval; only approved videos are
stored at the output location and announced.

The campaign's rows (``data/weekly_figures.csv``, or the CSV ``rows_uri`` names) are rendered as in
``heygen_data_to_video``. Each row's video then waits for a review with Airflow's human-in-the-loop
``ApprovalOperator`` (standard provider, Airflow 3.1+): the reviewer sees its thumbnail, a link to
watch it, its HeyGen page and its script, and answers **Approve** or **Reject** in the UI's
"Required actions" (or through the REST API). One review per video: one can be approved and another
rejected. An approved video is stored at ``output_uri``; a rejected one is not, and its publish step
is skipped. The summary page and the e-mail list every row: published, rejected (by whom) or why not.

A review nobody answers within ``HEYGEN_REVIEW_TIMEOUT_HOURS`` (default 72, under the seven days
HeyGen's signed links last) counts as rejected: nothing is published unreviewed. Set
``HEYGEN_REVIEWERS`` (comma-separated user ids) to let only those users answer.

On an Airflow without the human-in-the-loop operators (before 3.1) this file defines no DAG and logs
why.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.exceptions import AirflowOptionalProviderFeatureException
from airflow.sdk import DAG, Param, TriggerRule, task, task_group

from heygen_provider.campaign.review import review_body, review_subject, spoken_script
from heygen_provider.campaign.tasks import (
    every_row_stored,
    notify,
    preflight,
    row_outcomes,
    rows_from_csv,
    storage_folder,
    store_video,
    write_summary_page,
)
from heygen_provider.file_names import unique_file_stems
from heygen_provider.links.heygen import link_to_summary_page
from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator

try:
    from airflow.providers.standard.operators.hitl import ApprovalOperator
except (ImportError, AirflowOptionalProviderFeatureException) as missing:
    ApprovalOperator = None
    logging.getLogger(__name__).warning(
        "heygen_review_before_publish is not defined: it needs Airflow 3.1+ and the standard provider's "
        "human-in-the-loop operators (airflow.providers.standard.operators.hitl): %s",
        missing,
    )

DAG_ID = "heygen_review_before_publish"
DATA_FILE = Path(__file__).parent / "data" / "weekly_figures.csv"
# Renders take minutes, so 30 s polls cost little; the demo's emulator renders in seconds and polls faster.
POLL_INTERVAL = float(os.environ.get("HEYGEN_POLL_INTERVAL", "30"))
#: What every row's render shares: passed to the operator and to the preflight estimate alike.
RENDER_DEFAULTS: dict[str, Any] = {"dimension": "720p", "caption": True}
#: How long a video waits for its review; unanswered, it counts as rejected.
REVIEW_TIMEOUT = timedelta(hours=float(os.environ.get("HEYGEN_REVIEW_TIMEOUT_HOURS", "72")))
#: Who may answer (user ids of the auth manager); none set: anyone allowed to act on the DAG.
REVIEWERS = [{"id": user, "name": user} for user in filter(None, os.environ.get("HEYGEN_REVIEWERS", "").split(","))]
#: The row's render and its request, pulled by the review task of the same row (same map index).
RENDERED = "ti.xcom_pull(task_ids='review_row.generate_video', map_indexes=ti.map_index)"
SCRIPT = "spoken_script(ti.xcom_pull(task_ids='build_requests')[ti.map_index].video_inputs)"


def requests_from_rows(rows: list[dict[str, str]], *, avatar_id: str, voice_id: str) -> list[dict[str, Any]]:
    """One request per row, as in ``heygen_data_to_video``: the script is written from the row's figures."""
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


if ApprovalOperator is not None:
    with DAG(
        dag_id=DAG_ID,
        description="Weekly videos rendered with HeyGen, published only once a person has approved each",
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
        tags=["heygen", "example"],
        params={
            "avatar_id": Param("Daisy-inskirt-20220818", type="string"),
            "voice_id": Param("2d5b0e6cf36f460aa7fc47e3eee4ba54", type="string"),
            "output_uri": Param(os.environ.get("HEYGEN_OUTPUT_URI", "file:///tmp/heygen-videos"), type="string"),
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
        },
        # The review's subject and body are written from the row's render when the review task runs.
        user_defined_macros={
            "review_subject": review_subject,
            "review_body": review_body,
            "spoken_script": spoken_script,
        },
    ) as dag:

        @task
        def read_rows(params: dict[str, Any] | None = None) -> list[dict[str, str]]:
            """The week's figures, one dict per region."""
            assert params is not None
            return rows_from_csv(params.get("rows_uri") or DATA_FILE)

        @task
        def build_requests(rows: list[dict[str, str]], params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
            """One request per row: the scene's script is written from the row's figures."""
            assert params is not None
            return requests_from_rows(rows, avatar_id=params["avatar_id"], voice_id=params["voice_id"])

        # [START howto_heygen_review_before_publish]
        @task(retries=0)
        def approved(review: dict[str, Any] | None) -> None:
            """Lets this row's publish step run only when its reviewer chose Approve."""
            from airflow.exceptions import AirflowSkipException

            from heygen_provider.campaign.review import is_approved

            if not is_approved(review):
                raise AirflowSkipException("Rejected in review (or no answer in time): not published")

        @task_group
        def review_row(title: str, video_inputs: list[dict[str, Any]], file_stem: str) -> None:
            """One row: render, wait for a person's answer, store the video only if approved."""
            # The render waits in the triggerer, not on a worker.
            video = HeyGenGenerateVideoOperator(
                task_id="generate_video",
                title=title,
                video_inputs=video_inputs,
                **RENDER_DEFAULTS,
                poll_interval=POLL_INTERVAL,
                deferrable=True,
                max_active_tis_per_dag=8,
                map_index_template="{{ task.title }}",
            )
            review = ApprovalOperator(
                task_id="review",
                subject="{{ review_subject(" + RENDERED + ") }}",
                body="{{ review_body(" + RENDERED + ", " + SCRIPT + ") }}",
                # Unanswered in time: "Reject", so nothing is published that nobody has seen.
                defaults=ApprovalOperator.REJECT,
                response_timeout=REVIEW_TIMEOUT,
                assigned_users=REVIEWERS or None,
                map_index_template="{{ task.subject }}",
            )
            # "Reject" skips this row's publish step. Not left to the ApprovalOperator's own skip: on
            # Airflow 3.3 it does not reach a task inside the same mapped task group.
            video >> review
            approved(review.output) >> store_video(video, file_stem, folder, task_id="publish_video")

        folder = storage_folder()
        requests = build_requests(read_rows())
        rows = review_row.expand_kwargs(requests)
        preflight(requests, defaults=RENDER_DEFAULTS) >> rows
        # [END howto_heygen_review_before_publish]

        @task(trigger_rule=TriggerRule.ALL_DONE)
        def write_summary(
            requests: list[dict[str, Any]],
            folder: str,
            params: dict[str, Any] | None = None,
            dag_run: Any = None,
            ti: Any = None,
        ) -> dict[str, Any]:
            """Every row: published (with its stored file), rejected (and by whom), or why neither."""
            from heygen_provider.campaign.review import PUBLISHED, REJECTED, apply_reviews

            assert params is not None
            outcomes = row_outcomes(ti, requests, group="review_row", store_task="publish_video")
            reviews = [ti.xcom_pull(task_ids="review_row.review", map_indexes=index) for index in range(len(requests))]
            outcomes = apply_reviews(outcomes, reviews)
            statuses = [row["status"] for row in outcomes]
            counts = f"{statuses.count(PUBLISHED)} published, {statuses.count(REJECTED)} rejected"
            return write_summary_page(
                outcomes,
                params,
                dag_run,
                folder,
                heading="Reviewed videos {day}",
                subject=f"Reviewed videos {{day}}: {counts}",
            )

        summary = link_to_summary_page(write_summary(requests, folder), location="{{ params.output_uri }}")
        rows >> summary
        notify(summary) >> every_row_stored(summary)
