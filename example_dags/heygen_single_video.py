"""
One HeyGen avatar video from templated parameters.

Trigger it with a config such as ``{"customer_name": "Ada"}``; the script is rendered by Jinja before the
request is validated and submitted. Before paying, ``preflight`` estimates the video's cost and checks
it against ``max_cost`` and the account's remaining credit. The task defers while HeyGen renders, so
no worker slot is held.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, Param

from heygen_provider.campaign.tasks import preflight
from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator

# Renders take minutes, so 30 s polls cost little; the demo's emulator renders in seconds and polls faster.
POLL_INTERVAL = float(os.environ.get("HEYGEN_POLL_INTERVAL", "30"))

with DAG(
    dag_id="heygen_single_video",
    description="Render one personalised HeyGen avatar video",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["heygen", "example"],
    params={
        "customer_name": Param("Ada", type="string"),
        "avatar_id": Param("Daisy-inskirt-20220818", type="string"),
        "voice_id": Param("2d5b0e6cf36f460aa7fc47e3eee4ba54", type="string"),
        "max_cost": Param(
            float(os.environ["HEYGEN_MAX_COST"]) if os.environ.get("HEYGEN_MAX_COST") else None,
            type=["null", "number"],
            description="Refuse to render when the estimated cost is above this many USD; empty: only the "
            "account's remaining credit limits it",
        ),
    },
) as dag:
    # [START howto_operator_heygen_generate]
    request = {
        "video_inputs": [
            {
                "character": {"type": "avatar", "avatar_id": "{{ params.avatar_id }}", "avatar_style": "normal"},
                "voice": {
                    "type": "text",
                    "voice_id": "{{ params.voice_id }}",
                    "input_text": "Hello {{ params.customer_name }}, thanks for being with us this year!",
                    "speed": 1.0,
                },
                "background": {"type": "color", "value": "#F4F1EA"},
            }
        ],
        "dimension": "720p",
        "caption": True,
        "title": "Thank you, {{ params.customer_name }}",
    }
    generate = HeyGenGenerateVideoOperator(
        task_id="generate_video",
        **request,
        poll_interval=POLL_INTERVAL,
        timeout=3600,
        deferrable=True,
    )
    # The same request, rendered the same way, estimated before anything is paid for.
    preflight([request], defaults={}) >> generate
    # [END howto_operator_heygen_generate]
