"""
Data to video: one personalised HeyGen video per row of a weekly report, stored and summarised.

Each run reads ``data/weekly_figures.csv`` (or the CSV ``rows_uri`` names; one row per sales
region), writes a short script per region, and renders and stores each row in a mapped task group (each
render waits in the triggerer, not on a worker; each finished video is streamed with its thumbnail and
captions to object storage). A row whose render fails costs only that row: the other rows are stored,
and the HTML summary lists every row, a failed one with HeyGen's reason and its video id. The run then
ends failed, naming the missing rows.

Point ``output_uri`` at ``s3://bucket/prefix`` (with ``apache-airflow-providers-amazon[s3fs]`` installed
and the ``output_conn_id`` param naming the AWS connection, e.g. ``aws_default``) or ``gs://...`` to store
the videos in a bucket instead of a local folder. Set ``notify_to`` (and an ``smtp_default``
connection) to e-mail the summary.

Before anything is paid for, ``preflight`` estimates each video's duration and cost and asks HeyGen
what the account has left: the run stops there when the total is over the ``max_cost`` param (USD) or
the remaining credit. The summary shows each estimate beside the actual duration.

It has no schedule, so that one click on *Trigger* is one run and pays for one set of videos: with a
schedule, Airflow's "unpause on trigger" (ticked by default) would also start the latest scheduled
interval. It is meant to run every Monday at 07:00; to schedule it for real, copy it into your DAG
folder with ``schedule="0 7 * * MON"`` (and ``catchup=False``, so that unpausing it starts at most the
latest week), or trigger it from another DAG or ``airflow dags trigger``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Asset, TriggerRule, task, task_group
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

from heygen_provider.links.heygen import link_to_summary_page

#: One event per stored video: ``heygen_publish_new_videos`` is scheduled on it.
STORED_VIDEOS = Asset("heygen_campaign_videos")

with DAG(
    dag_id="heygen_data_to_video",
    description="Weekly figures per region, rendered as personalised HeyGen avatar videos",
    # Weekly ("0 7 * * MON") in production; see the module's notes for why the example has none.
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    # Retries cover transient faults only: a bad key, a bad request and a render that failed for a
    # reason that would repeat (40119, too little credit) fail at once, and a retry re-attaches to a
    # video that is still rendering instead of paying again.
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    tags=["heygen", "example"],
    params=campaign_params(),
) as dag:
    # [START howto_heygen_data_to_video_generate]
    @task_group
    def render_row(title: str, video_inputs: list[dict[str, Any]], file_stem: str) -> None:
        """One row: render its video, then store it. A failed render stops only its own row."""
        video = generate_video(title, video_inputs)
        store_video(video, file_stem, folder, outlets=[STORED_VIDEOS])

    folder = storage_folder()
    requests = build_requests(read_rows())
    rows = render_row.expand_kwargs(requests)
    preflight(requests) >> rows
    # [END howto_heygen_data_to_video_generate]

    # [START howto_heygen_notify_summary]
    @task(trigger_rule=TriggerRule.ALL_DONE)
    def write_summary(
        requests: list[dict[str, Any]],
        folder: str,
        params: dict[str, Any] | None = None,
        dag_run: Any = None,
        ti: Any = None,
    ) -> dict[str, Any]:
        """
        An HTML page with every row: thumbnail, link, duration and status, or HeyGen's reason and the
        video id for a row that failed. Runs once every row has ended, however it ended.
        """
        assert params is not None
        outcomes = row_outcomes(ti, requests, group="render_row", store_task="download_video")
        return write_summary_page(
            outcomes, params, dag_run, folder, heading="Weekly videos {day}", subject="Weekly videos {day}"
        )

    summary = link_to_summary_page(write_summary(requests, folder), location="{{ params.output_uri }}")
    rows >> summary
    # notify e-mails the summary through the smtp provider (see heygen_campaign_parts).
    notified = notify(summary)
    # [END howto_heygen_notify_summary]

    notified >> every_row_stored(summary)
