"""The operator's extra link to the rendered video in HeyGen's web app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey

HEYGEN_VIDEO_PAGE = "https://app.heygen.com/videos/{video_id}"
#: The XCom key under which the operator pushes the video id, as soon as it has one.
XCOM_VIDEO_ID = "video_id"


class HeyGenVideoLink(BaseOperatorLink):
    """Links a task to its video's page in HeyGen's web app, from the ``video_id`` it pushed to XCom."""

    name = "HeyGen video"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        video_id = XCom.get_value(ti_key=ti_key, key=XCOM_VIDEO_ID)
        return HEYGEN_VIDEO_PAGE.format(video_id=video_id) if video_id else ""
