"""
Data to video: one personalised HeyGen video per row of a weekly report, stored and summarised.

Every Monday it reads ``data/weekly_figures.csv`` (one row per sales region), writes a short script per
region, renders one avatar video per row with dynamic task mapping (each render waits in the triggerer,
not on a worker), streams every finished video with its thumbnail and captions to object storage, and
ends with an HTML page that shows each video's thumbnail, link, duration and status.

Point ``output_uri`` at ``s3://...`` or ``gs://...`` (with that provider installed and
``destination_conn_id`` set) to store the videos in a bucket instead of a local folder.
"""

from __future__ import annotations

import csv
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task

from heygen_provider.operators.download import HeyGenDownloadVideoOperator
from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator

DATA_FILE = Path(__file__).parent / "data" / "weekly_figures.csv"
DEFAULT_OUTPUT_URI = os.environ.get("HEYGEN_OUTPUT_URI", "file:///tmp/heygen-videos")
# Renders take minutes, so 30 s polls cost little; the demo's emulator renders in seconds and polls faster.
POLL_INTERVAL = float(os.environ.get("HEYGEN_POLL_INTERVAL", "30"))
# Manually triggered runs have no logical date in Airflow 3 (so no {{ ds }}): fall back to run_after.
RUN_DAY = "{{ (dag_run.logical_date or dag_run.run_after) | ds }}"

with DAG(
    dag_id="heygen_data_to_video",
    description="Weekly figures per region, rendered as personalised HeyGen avatar videos",
    schedule="0 7 * * MON",
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
        "output_uri": Param(DEFAULT_OUTPUT_URI, type="string"),
    },
) as dag:

    @task
    def read_rows() -> list[dict[str, str]]:
        """The week's figures, one dict per region."""
        with DATA_FILE.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    # [START howto_heygen_data_to_video_requests]
    @task
    def build_requests(rows: list[dict[str, str]], params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """One request per row: the scene's script is written from the row's figures."""
        assert params is not None
        requests = []
        for row in rows:
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
                    "video_inputs": [
                        {
                            "character": {"type": "avatar", "avatar_id": params["avatar_id"]},
                            "voice": {"type": "text", "voice_id": params["voice_id"], "input_text": script},
                            "background": {"type": "color", "value": "#0B3D91" if change >= 0 else "#7A1F1F"},
                        }
                    ],
                }
            )
        return requests

    # [END howto_heygen_data_to_video_requests]

    # [START howto_heygen_data_to_video_generate]
    videos = HeyGenGenerateVideoOperator.partial(
        task_id="generate_video",
        dimension="720p",
        caption=True,
        poll_interval=POLL_INTERVAL,
        deferrable=True,
        max_active_tis_per_dag=8,
    ).expand_kwargs(build_requests(read_rows()))
    # [END howto_heygen_data_to_video_generate]

    # [START howto_operator_heygen_download]
    stored = HeyGenDownloadVideoOperator.partial(
        task_id="download_video",
        destination="{{ params.output_uri }}/" + RUN_DAY,
    ).expand_kwargs(videos.output.map(lambda video: {"video_id": video["video_id"], "video": video}))
    # [END howto_operator_heygen_download]

    # [START howto_heygen_notify_summary]
    @task
    def write_summary(
        videos: list[dict[str, Any]],
        files: list[dict[str, Any]],
        params: dict[str, Any] | None = None,
        dag_run: Any = None,
    ) -> str:
        """An HTML page with each video's thumbnail, link, duration and status; returns its location."""
        from airflow.sdk import ObjectStoragePath

        from heygen_provider.notifications.summary import render_summary_html

        assert params is not None
        # Indexing by length reads each mapped result once, without probing past the end.
        videos = [videos[index] for index in range(len(videos))]
        files = [files[index] for index in range(len(files))]
        day = (dag_run.logical_date or dag_run.run_after).strftime("%Y-%m-%d")
        folder = ObjectStoragePath(f"{params['output_uri']}/{day}")
        page = folder / "summary.html"
        page.write_text(render_summary_html(videos, files, folder=folder, title=f"Weekly videos {day}"))
        print(f"Summary of {len(videos)} video(s): {page}")
        return str(page)

    write_summary(videos.output, stored.output)
    # [END howto_heygen_notify_summary]
