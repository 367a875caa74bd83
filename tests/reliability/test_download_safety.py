"""
The download step writes only inside its destination, and keeps an existing file only when it is proven to
be the video: the media host's ``ETag`` (remembered next to the file) must match, else it downloads again.

Against the real emulator (signed media URLs on 127.0.0.1), and requests-mock for a host without ``ETag``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
import requests_mock

from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.operators.download import HeyGenDownloadVideoOperator
from heygen_provider.testing.emulator import HeyGenEmulator
from tests.reliability.conftest import SCENE

SIZE = 1024 * 1024


@pytest.fixture
def finished_video(heygen_connection: Any) -> dict[str, Any]:
    """A completed 1 MiB video; its status result, as the generate operator returns it."""
    hook = HeyGenHook()
    created = hook.create_video({"video_inputs": [SCENE], "title": "emulator:size=1MB"})
    status = hook.get_video_status(created.video_id)
    assert status.is_success
    return status.to_result()


def download(folder: Path, **kwargs: Any) -> dict[str, Any]:
    operator = HeyGenDownloadVideoOperator(
        task_id="download", destination=folder.as_uri(), include_thumbnail=False, include_captions=False, **kwargs
    )
    return operator.execute(context={})  # type: ignore[arg-type]


def files_under(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


# -- names that would leave the destination --------------------------------------------------------

#: ``{tmp}`` is replaced by the test's own folder, so an absolute name that slipped through stays in it.
UNSAFE_NAMES = ["../../escaped", "../escaped", "a/b", "a\\b", "{tmp}/escaped", "..", ".", "x\x00y", "   "]


@pytest.mark.parametrize("name", UNSAFE_NAMES, ids=repr)
@pytest.mark.parametrize("field", ["video_id", "file_stem"])
def test_a_name_that_would_leave_the_destination_is_refused_before_any_call(
    field: str, name: str, finished_video: dict[str, Any], heygen_emulator: HeyGenEmulator, tmp_path: Path
) -> None:
    destination = tmp_path / "videos" / "today"
    destination.mkdir(parents=True)
    heygen_emulator.clear_requests()
    names = {"video_id": finished_video["video_id"], "file_stem": None, field: name.replace("{tmp}", str(tmp_path))}

    with pytest.raises(ValueError, match=rf"^{field} .* cannot name a file inside the destination") as refused:
        download(destination, video=finished_video, **names)

    assert "\x00" not in str(refused.value)
    assert heygen_emulator.requests() == [], "refused before any HTTP call"
    assert files_under(tmp_path) == [], "nothing written, inside the destination or outside it"


def test_an_empty_video_id_is_refused(heygen_connection: Any, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^video_id '' cannot name a file inside the destination"):
        download(tmp_path, video_id="")


def test_a_plain_file_stem_names_the_file(finished_video: dict[str, Any], tmp_path: Path) -> None:
    result = download(tmp_path, video_id=finished_video["video_id"], video=finished_video, file_stem="q3 review..v2")
    assert result["video_path"].endswith("/q3 review..v2.mp4")
    assert (tmp_path / "q3 review..v2.mp4").stat().st_size == SIZE


# -- an existing file is kept only when it is proven to be the video ------------------------------------


def test_a_same_size_file_with_other_content_is_replaced(finished_video: dict[str, Any], tmp_path: Path) -> None:
    video_id = finished_video["video_id"]
    impostor = tmp_path / f"{video_id}.mp4"
    impostor.write_bytes(b"x" * SIZE)  # the size of the video, not the video
    # As a download of this video leaves it when it dies between naming the file and vouching for it.
    (tmp_path / f".{video_id}.mp4.heygen.json").write_text(json.dumps({"video_id": video_id}))

    result = download(tmp_path, video_id=video_id, video=finished_video)

    assert result["video_bytes"] == SIZE
    assert impostor.read_bytes()[4:8] == b"ftyp", "the video itself, downloaded again"


def test_a_second_run_keeps_the_file_whose_etag_matches(
    finished_video: dict[str, Any], heygen_emulator: HeyGenEmulator, tmp_path: Path
) -> None:
    video_id = finished_video["video_id"]
    download(tmp_path, video_id=video_id, video=finished_video)
    video = tmp_path / f"{video_id}.mp4"
    first = video.stat().st_mtime_ns
    heygen_emulator.clear_requests()

    download(tmp_path, video_id=video_id, video=finished_video)

    assert video.stat().st_mtime_ns == first, "kept: the media host's ETag matches the one remembered"
    assert [entry.status for entry in heygen_emulator.requests()] == [200]


def test_a_file_whose_remembered_etag_differs_is_downloaded_again(
    finished_video: dict[str, Any], tmp_path: Path
) -> None:
    video_id = finished_video["video_id"]
    download(tmp_path, video_id=video_id, video=finished_video)
    video = tmp_path / f"{video_id}.mp4"
    [remembered] = [path for path in tmp_path.iterdir() if path.name.startswith(".")]
    record = json.loads(remembered.read_text())
    remembered.write_text(json.dumps({**record, "etag": f"other-{record['etag']}"}))  # the media host's ETag changed
    video.write_bytes(b"y" * SIZE)

    download(tmp_path, video_id=video_id, video=finished_video)

    assert video.read_bytes()[4:8] == b"ftyp"


def test_without_an_etag_an_existing_file_is_downloaded_again(tmp_path: Path) -> None:
    from airflow.sdk import ObjectStoragePath

    from heygen_provider.hooks.download import download_media
    from heygen_provider.retry import RetryPolicy

    url = "https://cdn.example/v.mp4"
    target = tmp_path / "v.mp4"
    target.write_bytes(b"old!")
    with requests_mock.Mocker() as http:
        http.get(url, content=b"new!", headers={"Content-Length": "4"})
        result = download_media(
            requests.Session(),
            url,
            ObjectStoragePath(target.as_uri()),
            retry_policy=RetryPolicy(attempts=1),
            timeout=(1.0, 1.0),
        )
    assert not result.skipped
    assert target.read_bytes() == b"new!", "a same-size file cannot be proven identical without an ETag"
