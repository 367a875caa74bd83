"""
DAGs for the integration tests: one per operator mode, driven against the local emulator.

Scenarios are chosen per run with the emulator's magic values in the ``title`` param, e.g.
``{"title": "emulator:fail"}``; see ``docs/testing-offline``.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG, Param

from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator
from heygen_provider.sensors.heygen import HeyGenVideoSensor

POLL_INTERVAL = float(os.environ.get("HEYGEN_POLL_INTERVAL", "0.2"))
RENDER_TIMEOUT = float(os.environ.get("HEYGEN_TEST_RENDER_TIMEOUT", "20"))


def scene(text: str) -> dict[str, object]:
    return {
        "character": {"type": "avatar", "avatar_id": "Daisy-inskirt-20220818"},
        "voice": {"type": "text", "voice_id": "2d5b0e6cf36f460aa7fc47e3eee4ba54", "input_text": text},
    }


def test_dag(dag_id: str, **kwargs: object) -> DAG:
    return DAG(
        dag_id=dag_id,
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        params={"title": Param("integration test", type="string")},
        tags=["heygen", "integration-test"],
        **kwargs,  # type: ignore[arg-type]
    )


for mode, deferrable in (("deferrable", True), ("blocking", False)):
    with test_dag(f"it_generate_{mode}"):
        HeyGenGenerateVideoOperator(
            task_id="generate",
            video_inputs=[scene("Hello from an integration test.")],
            title="{{ params.title }}",
            deferrable=deferrable,
            poll_interval=POLL_INTERVAL,
            timeout=RENDER_TIMEOUT,
        )

with test_dag("it_generate_from_json_file"):
    # A path ending in .json is read as a template file, relative to this DAG's folder, then rendered.
    HeyGenGenerateVideoOperator(
        task_id="generate",
        video_inputs="heygen_scenes.json",
        title="{{ params.title }}",
        callback_url="https://example.invalid/hooks/heygen.json",
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        timeout=RENDER_TIMEOUT,
    )

with test_dag("it_generate_short_timeout"):
    HeyGenGenerateVideoOperator(
        task_id="generate",
        video_inputs=[scene("This render never finishes in time.")],
        title="{{ params.title }}",
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        timeout=2,
    )

with test_dag("it_generate_with_retries", default_args={"retries": 2, "retry_delay": timedelta(0)}):
    HeyGenGenerateVideoOperator(
        task_id="generate",
        video_inputs=[scene("Retries must never pay twice.")],
        title="{{ params.title }}",
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        timeout=RENDER_TIMEOUT,
    )

for sensor_mode in ("poke", "reschedule", "deferrable"):
    with test_dag(f"it_submit_then_sense_{sensor_mode}"):
        submit = HeyGenGenerateVideoOperator(
            task_id="submit",
            video_inputs=[scene("Submitted now, sensed later.")],
            title="{{ params.title }}",
            wait_for_completion=False,
        )
        sense = HeyGenVideoSensor(
            task_id="sense",
            video_id="{{ ti.xcom_pull(task_ids='submit', key='video_id') }}",
            mode="reschedule" if sensor_mode == "reschedule" else "poke",
            deferrable=sensor_mode == "deferrable",
            poke_interval=POLL_INTERVAL,
            timeout=RENDER_TIMEOUT,
        )
        submit >> sense

with test_dag("it_generate_mapped"):
    HeyGenGenerateVideoOperator.partial(
        task_id="generate",
        title="{{ params.title }}",
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        timeout=RENDER_TIMEOUT,
    ).expand(video_inputs=[[scene(f"Hello, customer number {number}.")] for number in range(1, 4)])
