"""The download step against the emulator's signed, expiring media URLs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from heygen_provider.connection import HeyGenConnectionSettings
from heygen_provider.exceptions import HeyGenDownloadError
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.operators.download import HeyGenDownloadVideoOperator
from heygen_provider.retry import RetryPolicy
from tests.fixtures.scenes import emulator_scene

SCENE = emulator_scene("Download me.")


@pytest.fixture
def finished_video(heygen_connection: Any) -> dict[str, Any]:
    """A completed video with captions; its status result, as the generate operator returns it."""
    hook = HeyGenHook()
    created = hook.create_video({"video_inputs": [SCENE], "caption": True, "title": "emulator:size=3MB"})
    status = hook.get_video_status(created.video_id)
    assert status.is_success
    return status.to_result()


def download(video_id: str, folder: Path, **kwargs: Any) -> dict[str, Any]:
    operator = HeyGenDownloadVideoOperator(task_id="download", video_id=video_id, destination=folder.as_uri(), **kwargs)
    return operator.execute(context={})  # type: ignore[arg-type]


def test_stores_video_thumbnail_and_captions_with_verified_sizes(
    finished_video: dict[str, Any], heygen_emulator: Any, tmp_path: Path
) -> None:
    video_id = finished_video["video_id"]
    result = download(video_id, tmp_path, video=finished_video)

    video = tmp_path / f"{video_id}.mp4"
    assert result["video_path"].endswith(f"{video_id}.mp4")
    assert video.stat().st_size == result["video_bytes"] == 3 * 1024 * 1024
    assert video.read_bytes()[4:8] == b"ftyp"
    assert (tmp_path / f"{video_id}.jpg").read_bytes()[:2] == b"\xff\xd8"
    assert (tmp_path / f"{video_id}.srt").read_text().strip()
    stored = [f"{video_id}{suffix}" for suffix in (".mp4", ".jpg", ".srt")]
    # Each beside its hidden record (whose video, the media host's ETag), which lets a second run keep it.
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [*stored, *(f".{name}.heygen.json" for name in stored)]
    )
    media = [entry for entry in heygen_emulator.requests(method="GET") if entry.path.startswith("/media/")]
    assert len(media) == 3
    assert all(entry.credential is None for entry in media), "the API key must never reach the media host"


def test_a_second_run_keeps_the_complete_files(finished_video: dict[str, Any], tmp_path: Path) -> None:
    video_id = finished_video["video_id"]
    download(video_id, tmp_path, video=finished_video)
    first = (tmp_path / f"{video_id}.mp4").stat().st_mtime_ns

    download(video_id, tmp_path, video=finished_video)

    assert (tmp_path / f"{video_id}.mp4").stat().st_mtime_ns == first


def test_expired_signed_urls_are_refreshed_from_the_status_endpoint(
    finished_video: dict[str, Any], heygen_emulator: Any, tmp_path: Path
) -> None:
    heygen_emulator.update_settings(url_lifetime_seconds=60)
    stale = HeyGenHook().get_video_status(finished_video["video_id"]).to_result()
    heygen_emulator.advance_time(120)
    heygen_emulator.clear_requests()

    result = download(stale["video_id"], tmp_path, video=stale, include_thumbnail=False, include_captions=False)

    assert Path(result["video_path"].removeprefix("file://")).stat().st_size == 3 * 1024 * 1024
    answered = [(entry.path.split("/")[1], entry.status) for entry in heygen_emulator.requests()]
    assert answered == [("media", 403), ("v3", 200), ("media", 200)]


def test_a_broken_transfer_leaves_nothing_at_the_destination(
    finished_video: dict[str, Any], heygen_emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        HeyGenConnectionSettings, "retry_policy", property(lambda _: RetryPolicy(2, initial_delay=0.01))
    )
    heygen_emulator.add_fault("reset", method="GET", path="/media/videos/*", count=None)

    with pytest.raises(HeyGenDownloadError):
        download(finished_video["video_id"], tmp_path, video=finished_video)

    assert list(tmp_path.iterdir()) == []


def test_a_video_that_is_not_ready_is_not_downloaded(heygen_connection: Any, tmp_path: Path) -> None:
    from heygen_provider.exceptions import HeyGenRenderError

    created = HeyGenHook().create_video({"video_inputs": [SCENE], "title": "emulator:fail"})

    with pytest.raises(HeyGenRenderError, match="failed"):
        download(created.video_id, tmp_path)
    assert list(tmp_path.iterdir()) == []
