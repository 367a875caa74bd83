"""
A DAG of the reliability suite whose rows, from an upstream task, carry Jinja syntax: a customer's CSV
with a title ``{{ conn.heygen_default.password }}``. Rows are data: HeyGen must receive them as written
(``tests/reliability/test_data_is_not_a_template_in_a_dag_run.py``).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator
from heygen_provider.operators.template import HeyGenTemplateVideoOperator

POLL_INTERVAL = float(os.environ.get("HEYGEN_RELIABILITY_POLL_INTERVAL", "0.1"))
RENDER_TIMEOUT = float(os.environ.get("HEYGEN_TEST_RENDER_TIMEOUT", "20"))
#: What the customer typed: the key if rendered, and a sum.
KEY_TEMPLATE = "{{ conn.heygen_default.password }}"
SUM_TEMPLATE = "Q3 {{ 6*7 }}"


def _scene(text: str) -> list[dict[str, Any]]:
    return [
        {
            "character": {"type": "avatar", "avatar_id": "Daisy-inskirt-20220818"},
            "voice": {"type": "text", "voice_id": "2d5b0e6cf36f460aa7fc47e3eee4ba54", "input_text": text},
        }
    ]


with DAG(
    dag_id="rel_rows_with_jinja_syntax",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["heygen", "reliability-test"],
):

    @task
    def video_rows() -> list[dict[str, Any]]:
        return [
            {"title": KEY_TEMPLATE, "video_inputs": _scene(f"Revenue {SUM_TEMPLATE}")},
            {"title": SUM_TEMPLATE, "video_inputs": _scene(KEY_TEMPLATE)},
        ]

    @task
    def template_rows() -> list[dict[str, Any]]:
        return [{"title": KEY_TEMPLATE, "variables": {"manager_name": KEY_TEMPLATE, "region": SUM_TEMPLATE}}]

    HeyGenGenerateVideoOperator.partial(
        task_id="generate",
        # Written in the DAG file: a template, rendered.
        callback_id="row-{{ ti.map_index }}",
        map_index_template="{{ task.title }}",
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        timeout=RENDER_TIMEOUT,
    ).expand_kwargs(video_rows())

    HeyGenTemplateVideoOperator.partial(
        task_id="render_template",
        template_id="tpl_weekly_update",
        require_all_variables=False,
        map_index_template="{{ task.title }}",
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        timeout=RENDER_TIMEOUT,
    ).expand_kwargs(template_rows())
