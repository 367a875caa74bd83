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
from typing import Any

from airflow.exceptions import AirflowOptionalProviderFeatureException
from airflow.sdk import DAG, TriggerRule, task, task_group
from heygen_campaign_parts import (
    build_requests,
    campaign_params,
    every_row_stored,
    generate_video,
    notify,
    preflight,
    read_rows,
    row_outcomes,
    storage_folder,
    store_video,
    write_summary_page,
)

from heygen_provider.campaign.review import review_body, review_subject, spoken_script
from heygen_provider.links.heygen import link_to_summary_page

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
#: How long a video waits for its review; unanswered, it counts as rejected.
REVIEW_TIMEOUT = timedelta(hours=float(os.environ.get("HEYGEN_REVIEW_TIMEOUT_HOURS", "72")))
#: Who may answer (user ids of the auth manager); none set: anyone allowed to act on the DAG.
REVIEWERS = [{"id": user, "name": user} for user in filter(None, os.environ.get("HEYGEN_REVIEWERS", "").split(","))]
#: The row's render and its request, pulled by the review task of the same row (same map index).
RENDERED = "ti.xcom_pull(task_ids='review_row.generate_video', map_indexes=ti.map_index)"
SCRIPT = "spoken_script(ti.xcom_pull(task_ids='build_requests')[ti.map_index].video_inputs)"

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
        params=campaign_params(),
        # The review's subject and body are written from the row's render when the review task runs.
        user_defined_macros={
            "review_subject": review_subject,
            "review_body": review_body,
            "spoken_script": spoken_script,
        },
    ) as dag:
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
            video = generate_video(title, video_inputs)
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
        preflight(requests) >> rows
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
