"""
Publish new videos: a downstream pipeline that runs whenever the campaign pipeline has stored videos.

It is scheduled on the ``heygen_campaign_videos`` Asset, which ``heygen_data_to_video``'s download step
updates once per stored video; each event's ``extra`` says which video and where it is. This example
only lists them: put your publishing step (a CMS upload, a social post) in ``publish``. Triggered by
hand, it lists the latest stored video.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, Asset, task

STORED_VIDEOS = Asset("heygen_campaign_videos")

with DAG(
    dag_id="heygen_publish_new_videos",
    description="Runs on each batch of videos the campaign pipeline stored",
    schedule=[STORED_VIDEOS],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["heygen", "example"],
):
    # [START howto_heygen_asset_consumer]
    @task(inlets=[STORED_VIDEOS])
    def publish(triggering_asset_events: Any = None, inlet_events: Any = None) -> list[dict[str, Any]]:
        """The stored videos this run was triggered by (or, run by hand, the latest one)."""
        # Indexed by the Asset, never hashed: Airflow 3.1's Asset is not hashable.
        events = list(triggering_asset_events[STORED_VIDEOS]) if triggering_asset_events else []
        if not events and inlet_events is not None:
            latest = inlet_events[STORED_VIDEOS]
            events = [latest[-1]] if len(latest) else []
        videos = [dict(event.extra) for event in events if event.extra.get("video_path")]
        for video in videos:
            print(f"New HeyGen video {video['video_id']}: {video['video_path']}")
        return videos

    # [END howto_heygen_asset_consumer]

    publish()
