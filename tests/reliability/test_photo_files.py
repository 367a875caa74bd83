"""
Only regular files are read as photos (issue 27, item 10).

An ``image_path`` naming a FIFO used to block the task in ``open()`` until its ``execution_timeout``;
a directory, a device or a socket is no photo either. Each is refused, symlinks to them too, with an
error naming the field, before the file is opened and before anything is uploaded to the emulator.

The FIFO is real (``os.mkfifo``). The call runs in a thread: were it to block in ``open()`` (as before
the fix), the test opens the FIFO's other end, which ends the block, and fails; the join's timeout only
detects the hang, it measures nothing.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from heygen_provider.exceptions import HeyGenRequestValidationError
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.models import VideoGenerateRequest
from heygen_provider.testing.emulator import HeyGenEmulator

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
#: Generous: a refusal takes a stat() call; only a blocked open() reaches it.
HANG_DETECTOR_SECONDS = 30.0


def photo_request(*paths: str) -> VideoGenerateRequest:
    voice = {"type": "text", "voice_id": "2d5b0e6cf36f460aa7fc47e3eee4ba54", "input_text": "Hi."}
    return VideoGenerateRequest.from_params(
        {"video_inputs": [{"character": {"type": "image", "image_path": path}, "voice": voice} for path in paths]}
    )


def upload(*paths: str) -> Callable[[], Any]:
    return lambda: HeyGenHook().upload_images(photo_request(*paths), idempotency_key="airflow-heygen:photo-files")


def raised_by(call: Callable[[], Any], fifo: Path | None = None) -> BaseException | None:
    """What ``call`` raised (``None`` if nothing); a call blocked on ``fifo`` is released and fails the test."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
        except BaseException as error:  # handed to the test's thread
            outcome.append(error)
        else:
            outcome.append(None)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG_DETECTOR_SECONDS)
    if worker.is_alive() and fifo is not None:
        with open(fifo, "wb"):  # the blocked reader's open() returns; it then reads an empty file
            pass
        worker.join(HANG_DETECTOR_SECONDS)
        pytest.fail(f"the photo check opened the FIFO {fifo} and blocked until a writer came")
    assert not worker.is_alive(), "the call never returned"
    return outcome[0]


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "face.png"
    os.mkfifo(path)
    return path


@pytest.fixture
def unix_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "s.png"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    yield path
    server.close()


def assert_refused(error: BaseException | None, emulator: HeyGenEmulator, index: int, kind: str) -> None:
    assert isinstance(error, HeyGenRequestValidationError), repr(error)
    [problem] = error.problems
    assert problem.startswith(f"video_inputs[{index}].character.image_path: must name a regular file, not a {kind}")
    assert emulator.assets() == [] and emulator.requests(method="POST") == [], "nothing was uploaded"


def test_a_fifo_is_refused_before_it_is_opened(emulator: HeyGenEmulator, fifo: Path) -> None:
    assert_refused(raised_by(upload(str(fifo)), fifo), emulator, 0, "FIFO")


def test_a_fifo_as_a_file_uri_and_through_a_symlink_is_refused(
    emulator: HeyGenEmulator, fifo: Path, tmp_path: Path
) -> None:
    link = tmp_path / "link.png"
    link.symlink_to(fifo)
    assert_refused(raised_by(upload(fifo.as_uri()), fifo), emulator, 0, "FIFO")
    assert_refused(raised_by(upload(str(link)), fifo), emulator, 0, "FIFO")


def test_a_fifo_in_a_later_scene_stops_every_upload(emulator: HeyGenEmulator, fifo: Path, tmp_path: Path) -> None:
    photo = tmp_path / "good.png"
    photo.write_bytes(PNG)
    assert_refused(raised_by(upload(str(photo), str(fifo)), fifo), emulator, 1, "FIFO")


@pytest.mark.parametrize("name", ["directory", "symlink to a directory"])
def test_a_directory_is_refused(emulator: HeyGenEmulator, tmp_path: Path, name: str) -> None:
    folder = tmp_path / "photos.png"
    folder.mkdir()
    path = folder
    if name.startswith("symlink"):
        path = tmp_path / "link.png"
        path.symlink_to(folder)
    assert_refused(raised_by(upload(str(path))), emulator, 0, "directory")


def test_a_device_and_a_socket_are_refused(emulator: HeyGenEmulator, unix_socket: Path, tmp_path: Path) -> None:
    link = tmp_path / "null.png"
    link.symlink_to("/dev/null")
    for path in ("/dev/null", str(link), str(unix_socket)):
        assert_refused(raised_by(upload(path)), emulator, 0, "FIFO, device or socket")


def test_a_regular_file_and_a_symlink_to_one_still_upload(emulator: HeyGenEmulator, tmp_path: Path) -> None:
    photo = tmp_path / "face.png"
    photo.write_bytes(PNG)
    link = tmp_path / "link.png"
    link.symlink_to(photo)

    error = raised_by(upload(str(link)))

    assert error is None
    [asset] = emulator.assets()
    assert asset["size_bytes"] == len(PNG)


def test_a_dangling_symlink_cannot_be_read(emulator: HeyGenEmulator, tmp_path: Path) -> None:
    link = tmp_path / "gone.png"
    link.symlink_to(tmp_path / "missing.png")

    error = raised_by(upload(str(link)))

    assert isinstance(error, HeyGenRequestValidationError)
    assert error.problems[0].startswith("video_inputs[0].character.image_path: cannot be read")
