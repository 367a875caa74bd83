"""
One Avatar IV video per photo: HeyGen animates each face and lip-syncs it to a script.

The photos live in a folder (``photos_uri``: a local folder by default, or ``s3://...``, ``gs://...`` with
their provider installed). Each one is uploaded to HeyGen (``POST /v3/assets``) by the task that renders
it, and a retried task uploads no photo twice. Needs the connection's ``api_version`` ``v3`` (the
default). Before paying, ``preflight`` estimates every video's cost and checks the total against
``max_cost`` and the account's remaining credit.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task

from heygen_provider.campaign.tasks import preflight
from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator

POLL_INTERVAL = float(os.environ.get("HEYGEN_POLL_INTERVAL", "30"))
PHOTOS = (Path(__file__).resolve().parent / "data" / "photos").as_uri()
#: What every photo's render shares: passed to the operator and to the preflight estimate alike.
RENDER_SETTINGS: dict[str, Any] = {
    "aspect_ratio": "1:1",
    "resolution": "720p",
    "expressiveness": "medium",
    "motion_prompt": "a friendly nod",
}

with DAG(
    dag_id="heygen_avatar_iv_photos",
    description="One Avatar IV video per photo in a folder",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 2},
    tags=["heygen", "example", "avatar-iv"],
    params={
        "photos_uri": Param(PHOTOS, type="string", description="folder of JPEG or PNG portraits"),
        "voice_id": Param("2d5b0e6cf36f460aa7fc47e3eee4ba54", type="string"),
        "max_cost": Param(
            float(os.environ["HEYGEN_MAX_COST"]) if os.environ.get("HEYGEN_MAX_COST") else None,
            type=["null", "number"],
            description="Refuse to render when the estimated cost is above this many USD; empty: only the "
            "account's remaining credit limits it",
        ),
    },
) as dag:

    @task
    def list_photos(params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """One request per photo; the name of the file is the name the avatar greets."""
        from airflow.sdk import ObjectStoragePath

        assert params is not None
        folder = ObjectStoragePath(params["photos_uri"])
        photos = sorted(path for path in folder.iterdir() if path.suffix.lower() in (".jpg", ".jpeg", ".png"))
        return [
            {
                "title": f"Hello from {photo.stem.title()}",
                "video_inputs": [
                    {
                        # [START howto_operator_heygen_avatar_iv_photo]
                        "character": {"type": "image", "image_path": str(photo)},
                        # [END howto_operator_heygen_avatar_iv_photo]
                        "voice": {
                            "type": "text",
                            "voice_id": params["voice_id"],
                            "input_text": f"Hi, I am {photo.stem.title()}. Nice to meet you!",
                        },
                    }
                ],
            }
            for photo in photos
        ]

    photos = list_photos()
    renders = HeyGenGenerateVideoOperator.partial(
        task_id="render_photo", **RENDER_SETTINGS, poll_interval=POLL_INTERVAL, deferrable=True
    ).expand_kwargs(photos)
    preflight(photos, defaults=RENDER_SETTINGS) >> renders
