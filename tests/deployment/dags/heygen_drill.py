"""
The failure drill of the distributed deployment test: one DAG per API generation, each rendering
``HEYGEN_DRILL_VIDEOS`` mapped deferrable videos (60 by default), one per row, each titled after its row.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG

from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator

VIDEOS = int(os.environ.get("HEYGEN_DRILL_VIDEOS", "60"))
POLL_INTERVAL = float(os.environ.get("HEYGEN_POLL_INTERVAL", "2"))
#: The connection of each generation: ``heygen_default`` speaks v3 (the default), the other legacy.
CONNECTIONS = {"v3": "heygen_default", "legacy": "heygen_legacy"}


def dag_id(generation: str) -> str:
    return f"heygen_drill_{generation}"


def row_title(generation: str, row: int) -> str:
    return f"drill {generation} row {row:04d}"


for generation, conn_id in CONNECTIONS.items():
    with DAG(
        dag_id=dag_id(generation),
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_tasks=VIDEOS,
        # A killed worker's tasks fail on missed heartbeats; their retries must re-attach, not pay again.
        default_args={"retries": 3, "retry_delay": timedelta(seconds=2)},
        tags=["heygen", "drill"],
    ):
        HeyGenGenerateVideoOperator.partial(
            task_id="render",
            heygen_conn_id=conn_id,
            dimension="720p",
            poll_interval=POLL_INTERVAL,
            deferrable=True,
        ).expand_kwargs(
            [
                {
                    "title": row_title(generation, row),
                    "video_inputs": [
                        {
                            "character": {"type": "avatar", "avatar_id": "Daisy-inskirt-20220818"},
                            "voice": {
                                "type": "text",
                                "voice_id": "2d5b0e6cf36f460aa7fc47e3eee4ba54",
                                "input_text": f"Row {row} of the failure drill.",
                            },
                        }
                    ],
                }
                for row in range(VIDEOS)
            ]
        )
