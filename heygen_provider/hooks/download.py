"""
Streaming a finished video's media (MP4, thumbnail, captions) to any Airflow ``ObjectStoragePath``.

* Constant memory: the body is copied in chunks, never held whole.
* Atomic: bytes go to a temporary object beside the destination, which is moved into place only once
  its size is verified, so a failure never leaves a partial file under the final name.
* Idempotent: a destination proven to hold the file is left alone: same size, and stored from an answer
  with the same ``ETag`` (remembered in a hidden ``.<name>.heygen.json`` record beside it). Anything that
  cannot be proven identical (no ``ETag``, another one, a same-size leftover) is downloaded again.
* Never over another video's file: given a ``video_id``, the record names the video a file belongs to, and
  a destination that holds another video's file, or a file nothing vouches for, is refused before any
  byte is fetched.
* Media URLs are signed and expire (7 days on HeyGen); the caller passes a way to get fresh ones.
* The API key is never sent to the media host: these requests carry no auth header.

``requests`` is imported inside :func:`download_media`, the one function-level import here: the triggerer
imports this module (through the hook) and never loads a second HTTP client.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from heygen_provider.exceptions import (
    HeyGenDownloadConflictError,
    HeyGenDownloadError,
    HeyGenError,
    MediaUrlExpired,
)
from heygen_provider.hooks.answers import error_class_for_status
from heygen_provider.hooks.calls import describe_failure, final_error, transport_error
from heygen_provider.retry import RetryPolicy, TransportFailure, parse_retry_after

if TYPE_CHECKING:
    import requests
    from airflow.sdk import ObjectStoragePath

DEFAULT_CHUNK_SIZE = 1024 * 1024
#: What a CDN answers to a signed URL past its expiry (S3 and CloudFront say 403; some 401 or 410).
EXPIRED_URL_STATUSES = frozenset({401, 403, 410})


@dataclass(frozen=True)
class DownloadResult:
    """
    :param path: where the file now is, as a URI string.
    :param size: its size in bytes.
    :param skipped: ``True`` when the destination already held the complete file.
    """

    path: str
    size: int
    skipped: bool


def download_media(
    session: requests.Session,
    url: str,
    destination: ObjectStoragePath,
    *,
    retry_policy: RetryPolicy,
    timeout: tuple[float, float],
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    sleep: Callable[[float], None] | None = None,
    video_id: str | None = None,
) -> DownloadResult:
    """
    Stream ``url`` to ``destination`` atomically, retrying transient failures (downloads are GETs).

    :param timeout: ``(connect, read)`` seconds, as the connection settings give them.
    :param video_id: the video the file belongs to: a destination holding any other file is refused.
        Without it, whatever is at the destination is replaced.

    :raises MediaUrlExpired: when the media host refuses the signed URL (401, 403, 410).
    :raises HeyGenDownloadConflictError: when ``destination`` holds another video's file, or a file
        nothing says belongs to ``video_id``; nothing is fetched or written.
    :raises HeyGenDownloadError: on any other failure, after the policy's attempts.
    """
    import requests

    if video_id is not None:
        _refuse_another_owner(destination, video_id)
    wait = sleep or time.sleep
    retry = retry_policy.start("GET")
    while True:
        try:
            return _download_once(session, url, destination, timeout, chunk_size, video_id=video_id)
        except HeyGenDownloadError:
            raise
        except HeyGenError as answer_error:
            error: HeyGenError = answer_error
            cause: BaseException = answer_error
        except (requests.RequestException, _IncompleteBody) as failure:
            error = transport_error("GET", TransportFailure.NO_RESPONSE, describe_failure(failure))
            cause = failure
        delay = retry.delay_after(error)
        if delay is None:
            raise HeyGenDownloadError(f"Download of {_safe(url)} failed: {final_error(error, retry)}") from cause
        wait(delay)


class _IncompleteBody(Exception):
    pass


def _download_once(
    session: requests.Session,
    url: str,
    destination: ObjectStoragePath,
    timeout: tuple[float, float],
    chunk_size: int,
    *,
    video_id: str | None,
) -> DownloadResult:
    with session.get(url, stream=True, timeout=timeout) as response:
        if response.status_code in EXPIRED_URL_STATUSES:
            raise MediaUrlExpired(f"HTTP {response.status_code} for {_safe(url)}: the signed URL has expired")
        if response.status_code >= 500 or response.status_code == 429:
            # The same exception an API answer would raise, so the one retry policy judges it.
            error_class = error_class_for_status(response.status_code)
            raise error_class(
                f"media host answered for {_safe(url)}",
                status_code=response.status_code,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if response.status_code >= 400:
            raise HeyGenDownloadError(f"HTTP {response.status_code} for {_safe(url)}")
        expected = _content_length(response)
        etag = response.headers.get("ETag")
        if expected is not None and etag and _holds(destination, expected, etag, video_id):
            return DownloadResult(str(destination), expected, skipped=True)

        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.parent / f".{destination.name}.{uuid.uuid4().hex}.part"
        try:
            written = 0
            with partial.open("wb") as target:
                for chunk in response.iter_content(chunk_size=chunk_size):
                    target.write(chunk)
                    written += len(chunk)
            if expected is not None and written != expected:
                raise _IncompleteBody(f"received {written} of {expected} bytes from {_safe(url)}")
            if expected is None and written == 0:
                # Without a Content-Length an empty body cannot be told apart from a failed transfer.
                raise _IncompleteBody(f"empty body from {_safe(url)}")
            # Before the file takes its name, the record vouches for no content, only for whose file it
            # is: a crash between the two steps leaves a file that is downloaded again, never one that
            # another video's download may replace.
            _reset_record(destination, video_id)
            partial.rename(destination)
        except BaseException:
            with contextlib.suppress(Exception):
                partial.unlink()
            raise
        if etag:
            # Only an optimisation: without it, the next run downloads again.
            with contextlib.suppress(Exception):
                _write_record(destination, {"video_id": video_id, "etag": etag, "size": written})
        return DownloadResult(str(destination), written, skipped=False)


def _record_file(destination: ObjectStoragePath) -> ObjectStoragePath:
    return destination.parent / f".{destination.name}.heygen.json"


def _read_record(destination: ObjectStoragePath) -> dict[str, object] | None:
    """What the hidden record beside ``destination`` says, or None when there is none or it is unreadable."""
    try:
        record = json.loads(_record_file(destination).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _write_record(destination: ObjectStoragePath, record: dict[str, object]) -> None:
    _record_file(destination).write_text(json.dumps(record))


def _reset_record(destination: ObjectStoragePath, video_id: str | None) -> None:
    if video_id is not None:
        _write_record(destination, {"video_id": video_id})
        return
    record_file = _record_file(destination)
    if record_file.exists():
        record_file.unlink()


def _refuse_another_owner(destination: ObjectStoragePath, video_id: str) -> None:
    if not destination.exists():
        return
    record = _read_record(destination)
    owner = record.get("video_id") if record is not None else None
    if owner == video_id:
        return
    whose = f"HeyGen video {owner}'s file" if isinstance(owner, str) else "a file no download of this video stored"
    raise HeyGenDownloadConflictError(
        f"{destination} already holds {whose}; not replacing it with video {video_id}'s. Store each video under "
        "its own name (file_stem) or folder (destination), or remove the file to replace it."
    )


def _holds(destination: ObjectStoragePath, size: int, etag: str, video_id: str | None) -> bool:
    """
    ``destination`` is the media file itself: its size matches, and it was stored from an answer with
    this ``ETag``. A file of the right size is not proof enough (an earlier run's leftover, another video).
    """
    try:
        if not destination.exists() or destination.stat().get("size") != size:
            return False
    except OSError:
        return False
    return _read_record(destination) == {"video_id": video_id, "etag": etag, "size": size}


def _content_length(response: requests.Response) -> int | None:
    # A compressed transfer's length is not the file's length.
    if response.headers.get("Content-Encoding", "identity") not in ("identity", ""):
        return None
    value = response.headers.get("Content-Length")
    return int(value) if value and value.isdigit() else None


def _safe(url: str) -> str:
    # Signed URLs carry their signature in the query string; keep it out of logs and errors.
    return url.split("?", 1)[0]
