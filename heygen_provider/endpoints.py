"""The API paths the hook calls, owned by the connection settings (:mod:`heygen_provider.connection`)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class ApiEndpoints:
    """
    The API paths of one connection. HeyGen has announced the retirement of the legacy endpoints, so
    the status path is configurable: a ``{video_id}`` placeholder puts the id in the path (v3 style,
    ``/v3/videos/{video_id}``) instead of the ``video_id`` query parameter.
    """

    create_video: str = "/v2/video/generate"
    video_status: str = "/v1/video_status.get"
    avatars: str = "/v2/avatars"
    voices: str = "/v2/voices"
    remaining_quota: str = "/v2/user/remaining_quota"

    def status_request(self, video_id: str) -> tuple[str, dict[str, str] | None]:
        """Path and query parameters of the status call for ``video_id``."""
        if "{video_id}" in self.video_status:
            return self.video_status.format(video_id=quote(video_id, safe="")), None
        return self.video_status, {"video_id": video_id}


LEGACY_ENDPOINTS = ApiEndpoints()
