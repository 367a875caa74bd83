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

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Asset, Param, TriggerRule, task, task_group

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

DATA_FILE = Path(__file__).parent / "data" / "weekly_figures.csv"
# Renders take minutes, so 30 s polls cost little; the demo's emulator renders in seconds and polls faster.
POLL_INTERVAL = float(os.environ.get("HEYGEN_POLL_INTERVAL", "30"))
#: What every row's render shares: passed to the operator and to the preflight estimate alike.
RENDER_DEFAULTS: dict[str, Any] = {"dimension": "720p", "caption": True}


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

    # [START howto_heygen_data_to_video_generate]
    @task_group
    def render_row(title: str, video_inputs: list[dict[str, Any]], file_stem: str) -> None:
        """One row: render its video, then store it. A failed render stops only its own row."""
        # The render waits in the triggerer, not on a worker.
        video = HeyGenGenerateVideoOperator(
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
        # Streams the video, its thumbnail and captions to <output_uri>/<run's folder>/<file_stem>.*
        store_video(video, file_stem, folder, outlets=[STORED_VIDEOS])

    folder = storage_folder()
    requests = build_requests(read_rows())
    rows = render_row.expand_kwargs(requests)
    preflight(requests, defaults=RENDER_DEFAULTS) >> rows
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
    # notify e-mails the summary through the smtp provider (see heygen_provider.campaign.tasks).
    notified = notify(summary)
    # [END howto_heygen_notify_summary]

    notified >> every_row_stored(summary)
