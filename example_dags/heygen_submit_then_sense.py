"""
Fire-and-forget submission, then a separate sensor.

The generate task returns as soon as HeyGen has accepted the request (``wait_for_completion=False``);
the deferrable sensor waits for the render in the triggerer; the download task stores the result. Use
this shape when something else should run between submitting and using the video, or to re-check a
video submitted elsewhere. Before paying, ``preflight`` estimates the video's cost and checks it against
``max_cost`` and the account's remaining credit.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, Param

from heygen_provider.campaign.tasks import preflight
from heygen_provider.operators.download import HeyGenDownloadVideoOperator
from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator
from heygen_provider.sensors.heygen import HeyGenVideoSensor

POLL_INTERVAL = float(os.environ.get("HEYGEN_POLL_INTERVAL", "30"))
OUTPUT_URI = os.environ.get("HEYGEN_OUTPUT_URI", "file:///tmp/heygen-videos")
# Manually triggered runs have no logical date in Airflow 3 (so no {{ ds }}): fall back to run_after.
RUN_DAY = "{{ (dag_run.logical_date or dag_run.run_after) | ds }}"

with DAG(
    dag_id="heygen_submit_then_sense",
    description="Submit a HeyGen video, then wait for it with a deferrable sensor",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["heygen", "example"],
    params={
        "output_uri": Param(OUTPUT_URI, type="string"),
        "max_cost": Param(
            float(os.environ["HEYGEN_MAX_COST"]) if os.environ.get("HEYGEN_MAX_COST") else None,
            type=["null", "number"],
            description="Refuse to render when the estimated cost is above this many USD; empty: only the "
            "account's remaining credit limits it",
        ),
    },
) as dag:
    # [START howto_operator_heygen_submit_only]
    request = {
        "video_inputs": [
            {
                "character": {"type": "avatar", "avatar_id": "Daisy-inskirt-20220818"},
                "voice": {
                    "type": "text",
                    "voice_id": "2d5b0e6cf36f460aa7fc47e3eee4ba54",
                    "input_text": "Our product update for " + RUN_DAY + " is ready. Here is what changed.",
                },
            }
        ],
        "title": "Product update " + RUN_DAY,
    }
    submit = HeyGenGenerateVideoOperator(task_id="submit_video", **request, wait_for_completion=False)
    # [END howto_operator_heygen_submit_only]

    # [START howto_sensor_heygen_video]
    wait = HeyGenVideoSensor(
        task_id="wait_for_video",
        video_id="{{ ti.xcom_pull(task_ids='submit_video', key='video_id') }}",
        deferrable=True,
        poke_interval=POLL_INTERVAL,
        timeout=60 * 60,
    )
    # [END howto_sensor_heygen_video]

    # [START howto_operator_heygen_download_after_sensor]
    download = HeyGenDownloadVideoOperator(
        task_id="download_video",
        video_id="{{ ti.xcom_pull(task_ids='submit_video', key='video_id') }}",
        video="{{ ti.xcom_pull(task_ids='wait_for_video') }}",
        destination="{{ params.output_uri }}/" + RUN_DAY,
    )

    preflight([request], defaults={}) >> submit >> wait >> download
    # [END howto_operator_heygen_download_after_sensor]
