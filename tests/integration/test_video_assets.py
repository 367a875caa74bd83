"""Assets for downstream pipelines: each stored video is an Asset event a publishing DAG runs on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.conftest import task_states


def asset_events(dag_run: Any) -> list[Any]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        query = (
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.name == "heygen_campaign_videos", AssetEvent.source_run_id == dag_run.run_id)
        )
        events = session.scalars(query).all()
        return [dict(event.extra) for event in events]


def test_each_stored_video_is_one_asset_event_and_the_consumer_reads_it(
    run_dag: Any, emulator: Any, tmp_path: Path, dagbag: Any
) -> None:
    output = tmp_path / "videos"
    dag_run = run_dag("heygen_data_to_video", output_uri=output.as_uri(), max_cost=None)
    assert str(dag_run.state) == "success", task_states(dag_run)

    events = asset_events(dag_run)
    stored = sorted(str(path) for path in output.rglob("*.mp4"))
    assert sorted(Path(event["video_path"].removeprefix("file://")).as_posix() for event in events) == stored
    assert all(event["video_id"] and event["video_bytes"] > 0 for event in events)

    consumer = dagbag.get_dag("heygen_publish_new_videos")
    assert "name='heygen_campaign_videos'" in repr(consumer.timetable.asset_condition)
    consumer_run = consumer.test()
    assert str(consumer_run.state) == "success", task_states(consumer_run)
    [publish] = consumer_run.get_task_instances()
    published = publish.xcom_pull(task_ids="publish")
    assert len(published) == 1 and published[0]["video_path"] in {event["video_path"] for event in events}
