"""
DAGs of the reliability suite (``tests/reliability``), driven against the local emulator.

Like the integration DAGs, a scenario is chosen per run with the emulator's magic values in the
``title`` param; faults are injected by the tests through the emulator's fault API.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG, Param

from heygen_provider.operators.download import HeyGenDownloadVideoOperator
from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator

POLL_INTERVAL = float(os.environ.get("HEYGEN_RELIABILITY_POLL_INTERVAL", "0.1"))
RENDER_TIMEOUT = float(os.environ.get("HEYGEN_TEST_RENDER_TIMEOUT", "20"))
#: A render that reports an unknown status for ever must time out quickly in the suite.
SHORT_RENDER_TIMEOUT = 1.5


def _scene() -> list[dict[str, object]]:
    return [
        {
            "character": {"type": "avatar", "avatar_id": "Daisy-inskirt-20220818"},
            "voice": {
                "type": "text",
                "voice_id": "2d5b0e6cf36f460aa7fc47e3eee4ba54",
                "input_text": "Reliability is a feature.",
            },
        }
    ]


def _dag(dag_id: str, params: dict[str, Param] | None = None, **kwargs: object) -> DAG:
    return DAG(
        dag_id=dag_id,
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        params={"title": Param("reliability test", type="string"), **(params or {})},
        tags=["heygen", "reliability-test"],
        **kwargs,  # type: ignore[arg-type]
    )


def _scene_saying(text: str) -> list[dict[str, object]]:
    [scene] = _scene()
    return [{**scene, "voice": {**scene["voice"], "input_text": text}}]  # type: ignore[dict-item]


# One generate task per DAG; the id says what differs.
_VARIANTS: dict[str, dict[str, object]] = {
    "rel_generate": {},
    "rel_generate_blocking": {"deferrable": False},
    "rel_generate_short_timeout": {"timeout": SHORT_RENDER_TIMEOUT},
    # Text that merely ends in ".json" is text; only video_inputs and extra_fields may name a template
    # file. callback_id names a file next to this DAG, and is still just text.
    "rel_generate_json_lookalikes": {
        "video_inputs": _scene_saying("Now open settings.json"),
        "title": "Tutorial: edit package.json",
        "callback_id": "heygen_scenes.json",
        "extra_fields": {"brand_note": "see style.json"},
    },
    "rel_generate_from_template_files": {
        "video_inputs": "heygen_scenes.json",
        "extra_fields": "heygen_extra_fields.json",
    },
}
for _dag_id, _overrides in _VARIANTS.items():
    with _dag(_dag_id):
        HeyGenGenerateVideoOperator(
            task_id="generate",
            **{  # type: ignore[arg-type]
                "video_inputs": _scene(),
                "title": "{{ params.title }}",
                "callback_id": "reliability-{{ run_id }}",
                "deferrable": True,
                "poll_interval": POLL_INTERVAL,
                "timeout": RENDER_TIMEOUT,
                **_overrides,
            },
        )


class _FailsOnceAfterExecute(HeyGenGenerateVideoOperator):
    """Fails its first try after ``execute`` returned, as a failing XCom push or post_execute would."""

    def post_execute(self, context: object, result: object = None) -> None:
        if context["ti"].try_number == 1:  # type: ignore[index]
            raise RuntimeError("post_execute failed after the video was made")


# Airflow's own retries around one generate task.
for _dag_id, _retries, _operator in [
    ("rel_generate_with_retries", 2, HeyGenGenerateVideoOperator),
    ("rel_generate_fails_after_execute", 1, _FailsOnceAfterExecute),
]:
    with _dag(_dag_id, default_args={"retries": _retries, "retry_delay": timedelta(0)}):
        _operator(
            task_id="generate",
            video_inputs=_scene(),
            title="{{ params.title }}",
            deferrable=True,
            poll_interval=POLL_INTERVAL,
            timeout=RENDER_TIMEOUT,
        )

with _dag(
    "rel_generate_and_download", params={"output": Param("file:///tmp/heygen-reliability-videos", type="string")}
):
    _generate = HeyGenGenerateVideoOperator(
        task_id="generate",
        video_inputs=_scene(),
        title="{{ params.title }}",
        caption=True,
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        timeout=RENDER_TIMEOUT,
    )
    _generate >> HeyGenDownloadVideoOperator(
        task_id="download",
        video_id="{{ ti.xcom_pull(task_ids='generate', key='video_id') }}",
        video="{{ ti.xcom_pull(task_ids='generate') }}",
        destination="{{ params.output }}",
    )
