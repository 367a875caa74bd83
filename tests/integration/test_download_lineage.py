"""
The download operator reports what it stored as OpenLineage output datasets, read the way Airflow's
OpenLineage provider reads them: its ``ExtractorManager`` picks the extractor for the task and asks it
for the lineage of the finished task instance, as the provider's listener does when a task succeeds.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.operators.download import HeyGenDownloadVideoOperator
from tests.fixtures.scenes import emulator_scene
from tests.integration.services import S3Server

BUCKET = "lineage-videos"
AWS_CONN_ID = "lineage_s3"
SCENE = emulator_scene("Lineage, please.")


@pytest.fixture
def finished_video(heygen_connection: Any) -> dict[str, Any]:
    """A completed video with captions; its status result, as the generate operator returns it."""
    hook = HeyGenHook()
    created = hook.create_video({"video_inputs": [SCENE], "caption": True, "title": "Lineage"})
    status = hook.get_video_status(created.video_id)
    assert status.is_success
    return status.to_result()


@pytest.fixture
def bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    client = s3_server.client()
    if BUCKET not in [item["Name"] for item in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket=BUCKET)
    for name, value in s3_server.connection(AWS_CONN_ID).items():
        monkeypatch.setenv(name, value)
    return BUCKET


def lineage_after_success(operator: HeyGenDownloadVideoOperator) -> Any:
    """What Airflow's OpenLineage listener gets for the task once it has run and succeeded."""
    from airflow.providers.openlineage.extractors.base import DefaultExtractor
    from airflow.providers.openlineage.extractors.manager import ExtractorManager
    from airflow.sdk import DAG
    from airflow.utils.state import TaskInstanceState

    with DAG(dag_id="lineage", schedule=None):
        operator.execute(context={})  # type: ignore[arg-type]
    manager = ExtractorManager()
    # The provider finds the operator's own get_openlineage_facets_on_complete.
    assert manager.get_extractor_class(operator) is DefaultExtractor
    task_instance = SimpleNamespace(task=operator, task_id=operator.task_id, dag_id="lineage", map_index=-1)
    return manager.extract_metadata(
        dagrun=SimpleNamespace(run_id="manual__1"),
        task=operator,
        task_instance_state=TaskInstanceState.SUCCESS,
        task_instance=task_instance,
    )


def outputs(lineage: Any) -> list[tuple[str, str]]:
    return [(dataset.namespace, dataset.name) for dataset in lineage.outputs]


def test_a_local_download_reports_its_three_files(finished_video: dict[str, Any], tmp_path: Path) -> None:
    operator = HeyGenDownloadVideoOperator(
        task_id="download", video_id=finished_video["video_id"], video=finished_video,
        destination=tmp_path.as_uri(), file_stem="north",
    )  # fmt: skip
    lineage = lineage_after_success(operator)
    assert outputs(lineage) == [("file", f"{tmp_path}/north{suffix}") for suffix in (".mp4", ".jpg", ".srt")]
    assert lineage.inputs == []


def test_an_s3_download_reports_bucket_and_keys(
    finished_video: dict[str, Any], heygen_emulator: Any, s3_server: S3Server, bucket: str
) -> None:
    operator = HeyGenDownloadVideoOperator(
        task_id="download", video_id=finished_video["video_id"], video=finished_video,
        destination=f"s3://{bucket}/weekly/2026-11-23", destination_conn_id=AWS_CONN_ID, file_stem="north",
        include_captions=False,
    )  # fmt: skip
    lineage = lineage_after_success(operator)
    # The connection id that ObjectStoragePath writes into the URI is no part of the name.
    assert outputs(lineage) == [
        (f"s3://{bucket}", "weekly/2026-11-23/north.mp4"),
        (f"s3://{bucket}", "weekly/2026-11-23/north.jpg"),
    ]
    assert set(s3_server.objects(bucket)) >= {"weekly/2026-11-23/north.mp4", "weekly/2026-11-23/north.jpg"}


def test_a_task_that_stored_nothing_reports_no_output() -> None:
    operator = HeyGenDownloadVideoOperator(task_id="download", video_id="abc", destination="file:///data")
    assert operator.get_openlineage_facets_on_complete(task_instance=None).outputs == []
