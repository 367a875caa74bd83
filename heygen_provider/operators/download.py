"""
:class:`HeyGenDownloadVideoOperator`: store a finished video (and its thumbnail and captions) in any
Airflow object storage: a local folder, S3, GCS, Azure, ... (whatever ``ObjectStoragePath`` reaches).

This module is imported when DAG files are parsed, so it imports only what the operator's definition
needs; the hook, the models and the lineage load at execute time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.sdk import Asset, BaseOperator, BaseOperatorLink, ObjectStoragePath

from heygen_provider.exceptions import HeyGenDownloadNameError, HeyGenRenderError, MediaUrlExpired
from heygen_provider.links.heygen import StoredVideoLink, may_open_in_browser, without_connection
from heygen_provider.operators.upstream_data import UpstreamDataMixin
from heygen_provider.vocabulary import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from heygen_provider.hooks.download import DownloadResult
    from heygen_provider.hooks.heygen import HeyGenHook
    from heygen_provider.models import VideoStatusResponse

#: Result keys whose URLs get downloaded, and the file suffix used when the URL path has none.
MEDIA = {
    "video_url": ("video_path", ".mp4"),
    "thumbnail_url": ("thumbnail_path", ".jpg"),
    "caption_url": ("caption_path", ".srt"),
}


class HeyGenDownloadVideoOperator(UpstreamDataMixin, BaseOperator):
    """
    Download a completed HeyGen video to ``destination``, streamed in chunks and written atomically.

    Signed URLs are taken from ``video`` (the generate operator's result, typically from XCom) when
    given; when they have expired, or when only ``video_id`` is known, a status call fetches fresh ones.
    Files already at the destination are not downloaded again when the media host's ETag proves them
    identical.

    :param video_id: the HeyGen video id (templated).
    :param destination: a folder URI or path (templated), e.g. ``file:///data/videos/{{ ds }}`` or
        ``s3://bucket/videos/``; files are named ``<file_stem>.mp4``, ``.jpg`` and the caption suffix.
    :param video: the generate operator's result dict (templated); saves a status call while its URLs
        are fresh.
    :param file_stem: base name of the files (templated); default the video id.
    :param include_thumbnail: also store the thumbnail.
    :param include_captions: also store the captions file, when HeyGen made one.
    :param destination_conn_id: the Airflow connection for the object store (e.g. ``aws_default``;
        templated; empty: none).
    :param heygen_conn_id: the ``heygen`` connection.
    :param chunk_size: bytes per chunk; memory use stays at about one chunk.

    Give ``outlets=[Asset(...)]`` to let a DAG scheduled on that Asset run on new videos: each stored
    video is one Asset event whose ``extra`` holds ``video_id``, ``video_path``, ``thumbnail_path`` and
    ``video_bytes``.
    """

    template_fields: Sequence[str] = (
        "video_id",
        "destination",
        "video",
        "file_stem",
        "destination_conn_id",
        "heygen_conn_id",
    )

    @property
    def operator_extra_links(self) -> tuple[BaseOperatorLink, ...]:  # type: ignore[override]
        """
        The stored-video link, unless the destination is a local folder, whose link could open nothing
        from Airflow's UI (see :func:`~heygen_provider.links.heygen.may_open_in_browser`).
        """
        destination = getattr(self, "destination", None)  # unset while BaseOperator initialises
        if may_open_in_browser(destination if isinstance(destination, str) else None, self.params):
            return (StoredVideoLink(),)
        return ()

    #: The result of the last run of :meth:`execute`, for the lineage reported after it.
    stored_result: dict[str, Any] | None = None

    def __init__(
        self,
        *,
        video_id: str,
        destination: str,
        video: dict[str, Any] | None = None,
        file_stem: str | None = None,
        include_thumbnail: bool = True,
        include_captions: bool = True,
        destination_conn_id: str | None = None,
        heygen_conn_id: str = DEFAULT_CONN_ID,
        chunk_size: int = 1024 * 1024,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.video_id = video_id
        self.destination = destination
        self.video = video
        self.file_stem = file_stem
        self.include_thumbnail = include_thumbnail
        self.include_captions = include_captions
        self.destination_conn_id = destination_conn_id
        self.heygen_conn_id = heygen_conn_id
        self.chunk_size = chunk_size

    def execute(self, context: Context) -> dict[str, Any]:
        from heygen_provider.hooks.heygen import HeyGenHook
        from heygen_provider.models.params import parse_structured_param

        # Checked before any call: a name with a path in it would write outside the destination.
        stem = _file_name("file_stem", self.file_stem) if self.file_stem else _file_name("video_id", self.video_id)
        hook = HeyGenHook(self.heygen_conn_id)
        # A Jinja template that renders to nothing ("") means no connection, as None does.
        folder = ObjectStoragePath(str(self.destination), conn_id=self.destination_conn_id or None)
        video = parse_structured_param("video", self.video) if self.video else None
        urls = dict(video) if isinstance(video, dict) and video.get("video_url") else None
        if urls is None:
            urls = self._fresh_urls(hook)

        result: dict[str, Any] = {"video_id": self.video_id}
        for url_key, (path_key, suffix) in MEDIA.items():
            if not self._wanted(url_key) or not urls.get(url_key):
                result[path_key] = None
                continue
            target = folder / f"{stem}{_suffix(urls[url_key], suffix)}"
            stored, urls = self._download(hook, urls, url_key, target)
            result[path_key] = stored.path
            result[path_key.replace("_path", "_bytes")] = stored.size
            self.log.info(
                "%s %s (%d bytes)", "Already complete:" if stored.skipped else "Stored", stored.path, stored.size
            )
        self._describe_asset_events(context, result)
        # What get_openlineage_facets_on_complete reports once the task has succeeded.
        self.stored_result = result
        return result

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        """
        What the task stored (the video, its thumbnail and its captions) as OpenLineage output datasets.

        Airflow's OpenLineage provider, when it is installed, calls this once the task has succeeded, as
        it does for the dbt Cloud and Databricks operators; see :mod:`heygen_provider.lineage` for the
        names.

        :param task_instance: the finished task instance (unused: the paths are the task's own result).
        """
        from heygen_provider.lineage import stored_outputs

        result = self.stored_result or {}
        return stored_outputs(result.get(path_key) for path_key, _ in MEDIA.values())

    def _describe_asset_events(self, context: Context, result: dict[str, Any]) -> None:
        """
        Each Asset in ``outlets`` gets one event per stored video (Airflow records it when the task
        succeeds); its ``extra`` says which video and where, for a DAG scheduled on the Asset.
        """
        events = context.get("outlet_events")
        if events is None:
            return
        extra = {
            "video_id": self.video_id,
            "video_path": without_connection(str(result.get("video_path"))),
            "thumbnail_path": without_connection(str(result["thumbnail_path"]))
            if result.get("thumbnail_path")
            else None,
            "video_bytes": result.get("video_bytes"),
        }
        for outlet in self.outlets or []:
            if isinstance(outlet, Asset):
                events[outlet].extra.update(extra)

    def _wanted(self, url_key: str) -> bool:
        return (
            url_key == "video_url"
            or (url_key == "thumbnail_url" and self.include_thumbnail)
            or (url_key == "caption_url" and self.include_captions)
        )

    def _download(
        self, hook: HeyGenHook, urls: dict[str, Any], url_key: str, target: ObjectStoragePath
    ) -> tuple[DownloadResult, dict[str, Any]]:
        try:
            return hook.download_media(urls[url_key], target, chunk_size=self.chunk_size, video_id=self.video_id), urls
        except MediaUrlExpired:
            self.log.info("Signed %s has expired; asking HeyGen for a fresh one", url_key)
        urls = self._fresh_urls(hook)
        return hook.download_media(urls[url_key], target, chunk_size=self.chunk_size, video_id=self.video_id), urls

    def _fresh_urls(self, hook: HeyGenHook) -> dict[str, Any]:
        status: VideoStatusResponse = hook.get_video_status(self.video_id)
        if not status.is_success or not status.video_url:
            raise HeyGenRenderError(
                video_id=self.video_id,
                status=status.status.value,
                code=status.error.code if status.error else None,
                message="the video is not ready to download",
            )
        return status.to_result()


def _file_name(field: str, value: Any) -> str:
    name = str(value)
    if not name.strip() or name in (".", "..") or any(char in name for char in "/\\\x00"):
        raise HeyGenDownloadNameError(
            f"{field} {name.replace(chr(0), '<NUL>')!r} cannot name a file inside the destination: it must "
            "not be empty, '.' or '..', nor contain '/', '\\' or a NUL character"
        )
    return name


def _suffix(url: str, default: str) -> str:
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    return suffix if suffix and len(suffix) <= 5 else default
