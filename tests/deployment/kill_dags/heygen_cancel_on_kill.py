"""
The DAG of the ``cancel_on_kill`` deployment test: one deferrable render that deletes its HeyGen video
when the task is marked failed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator

with DAG(
    dag_id="heygen_cancel_on_kill",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    # A busy test machine can time out the worker's first call to the api-server before anything is
    # submitted; a retry then submits. Marking the task failed ends it whatever its retries.
    default_args={"retries": 2, "retry_delay": timedelta(seconds=2)},
    tags=["heygen", "test"],
):
    HeyGenGenerateVideoOperator(
        task_id="render",
        title="cancel_on_kill",
        video_inputs=[
            {
                "character": {"type": "avatar", "avatar_id": "Daisy-inskirt-20220818"},
                "voice": {
                    "type": "text",
                    "voice_id": "2d5b0e6cf36f460aa7fc47e3eee4ba54",
                    "input_text": "A render that may be killed.",
                },
            }
        ],
        dimension="720p",
        poll_interval=1,
        deferrable=True,
        cancel_on_kill=True,
    )
