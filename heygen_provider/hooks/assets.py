"""
Uploading a character's photo (``image_path``) to HeyGen's v3 assets, streamed in constant memory.

* Up to 32 MB: ``POST /v3/assets`` as ``multipart/form-data`` (field ``file``).
* Larger: HeyGen's direct upload: ``POST /v3/assets/direct-uploads`` for a presigned URL, ``PUT`` the
  bytes there (without the API key: it is another host), then ``POST /v3/assets/{asset_id}/complete``.

Every file is checked to be a JPEG or PNG before anything is sent. Each upload carries an
``Idempotency-Key`` derived from the render's, so a retried call creates one asset; and the operator
records the asset ids, so a retried task sends no photo twice.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any

from heygen_provider.exceptions import HeyGenMalformedResponseError, HeyGenRequestValidationError

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from heygen_provider.hooks.heygen import HeyGenHook
    from heygen_provider.models import VideoGenerateRequest

#: The largest file ``POST /v3/assets`` takes; larger ones go through a direct upload.
MULTIPART_LIMIT = 32 * 1024 * 1024
#: HeyGen's limit for an input image.
MAX_IMAGE_BYTES = 50 * 1024 * 1024
ASSETS_PATH = "/v3/assets"
DIRECT_UPLOADS_PATH = "/v3/assets/direct-uploads"
_SIGNATURES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
_CHUNK = 1024 * 1024
#: fsspec's ``type`` of what is not a regular file, as the error names it.
_KINDS = {"directory": "directory", "other": "FIFO, device or socket"}


def upload_images(
    hook: HeyGenHook, request: VideoGenerateRequest, uploaded: dict[str, str], idempotency_key: str | None
) -> tuple[VideoGenerateRequest, dict[str, str]]:
    """See :meth:`heygen_provider.hooks.heygen.HeyGenHook.upload_images`."""
    paths = {
        index: scene.character.image_path
        for index, scene in enumerate(request.video_inputs)
        if scene.character.image_path is not None
    }
    if not paths:
        return request, uploaded
    # Every file is checked before the first byte is sent.
    files = {index: _checked_image(index, path) for index, path in paths.items() if path not in uploaded}
    for index, (file, content_type, size) in files.items():
        path = paths[index]
        if path in uploaded:
            continue
        key = _derived_key(idempotency_key, f"asset:{_digest(path)}") if idempotency_key else None
        uploaded[path] = _upload(hook, file, content_type, size, key)
    scenes = [
        scene.model_copy(
            update={
                "character": scene.character.model_copy(
                    update={"image_path": None, "image_asset_id": uploaded[scene.character.image_path]}
                )
            }
        )
        if scene.character.image_path is not None
        else scene
        for scene in request.video_inputs
    ]
    return request.model_copy(update={"video_inputs": scenes}), uploaded


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _derived_key(key: str, suffix: str) -> str:
    """
    ``key:suffix``, within HeyGen's 255 characters: a long render key is replaced by its digest, so a
    key the create accepts never makes an upload key HeyGen refuses.
    """
    derived = f"{key}:{suffix}"
    from heygen_provider.hooks.heygen import IDEMPOTENCY_KEY_MAX_LENGTH

    if len(derived) <= IDEMPOTENCY_KEY_MAX_LENGTH:
        return derived
    return f"{hashlib.sha256(key.encode()).hexdigest()}:{suffix}"


def _storage_path(path: str) -> ObjectStoragePath:
    from airflow.sdk import ObjectStoragePath

    if "://" not in path:
        path = f"file://{os.path.abspath(path)}"
    return ObjectStoragePath(path)


def _checked_image(index: int, path: str) -> tuple[ObjectStoragePath, str, int]:
    field = f"video_inputs[{index}].character.image_path"

    def unreadable(error: Exception) -> HeyGenRequestValidationError:
        return HeyGenRequestValidationError([f"{field}: cannot be read ({error}) (got {path!r})"])

    try:
        file = _storage_path(path)
        info = file.stat()
        file_type = info["type"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise unreadable(error) from None
    # Checked before opening: opening a FIFO blocks until a writer comes (until the task's timeout), and a
    # device, a socket or a directory is no photo. stat() follows symlinks: a link to one is refused too.
    if file_type != "file":
        raise HeyGenRequestValidationError(
            [f"{field}: must name a regular file, not a {_KINDS.get(file_type, file_type)} (got {path!r})"]
        )
    try:
        size = int(info["size"])
        with file.open("rb") as stream:
            head = stream.read(8)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise unreadable(error) from None
    content_type = next((kind for magic, kind in _SIGNATURES.items() if head.startswith(magic)), None)
    if content_type is None:
        raise HeyGenRequestValidationError([f"{field}: must be a JPEG or PNG image (got {path!r})"])
    if size > MAX_IMAGE_BYTES:
        raise HeyGenRequestValidationError([f"{field}: must be at most 50 MB (got {size} bytes in {path!r})"])
    return file, content_type, size


def _upload(hook: HeyGenHook, file: ObjectStoragePath, content_type: str, size: int, key: str | None) -> str:
    headers = {"Idempotency-Key": key} if key else {}
    if size <= MULTIPART_LIMIT:
        boundary = uuid.uuid4().hex
        data = hook._request(
            "POST",
            ASSETS_PATH,
            body=lambda: MultipartFile(file, file.name, content_type, size, boundary),
            headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            idempotent=key is not None,
        )
        return _asset_id(data)
    started = hook._request(
        "POST",
        DIRECT_UPLOADS_PATH,
        json_body={"filename": file.name, "content_type": content_type, "size_bytes": size},
        headers=headers,
        idempotent=key is not None,
    )
    asset_id = _asset_id(started)
    _put_bytes(hook, file, started, size)
    completed = hook._request(
        "POST",
        f"{ASSETS_PATH}/{asset_id}/complete",
        json_body={},
        headers={"Idempotency-Key": _derived_key(key, "complete")} if key else None,
        idempotent=True,  # completing an upload is idempotent by HeyGen's contract
    )
    return _asset_id(completed)


def _put_bytes(hook: HeyGenHook, file: ObjectStoragePath, started: Mapping[str, Any], size: int) -> None:
    from urllib.parse import urlsplit

    import requests

    from heygen_provider.connection import is_loopback

    upload_url = started.get("upload_url")
    parts = urlsplit(upload_url if isinstance(upload_url, str) else "")
    if not (parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname or ""))):
        raise HeyGenMalformedResponseError("the direct upload answer carries no https upload_url", status_code=200)
    upload_headers = {str(name): str(value) for name, value in (started.get("upload_headers") or {}).items()}
    settings = hook.settings
    with file.open("rb") as stream:
        # A plain session: the presigned URL is another host, which must never see the API key.
        response = requests.put(
            parts.geturl(),
            data=_Sized(stream, size),
            headers=upload_headers,
            timeout=(settings.connect_timeout, settings.create_timeout),
            allow_redirects=False,
        )
    if response.status_code >= 300:
        raise HeyGenMalformedResponseError(
            f"the direct upload PUT answered HTTP {response.status_code}", status_code=response.status_code
        )


def _asset_id(data: Any) -> str:
    asset_id = data.get("asset_id") if isinstance(data, dict) else None
    if not isinstance(asset_id, str) or not asset_id:
        raise HeyGenMalformedResponseError("the asset answer carries no asset_id", status_code=200)
    return asset_id


class _Sized:
    """A stream with a known length, so ``requests`` sends ``Content-Length`` and reads it in chunks."""

    def __init__(self, stream: IO[bytes], size: int) -> None:
        self._stream = stream
        self.len = size

    def read(self, amount: int = _CHUNK) -> bytes:
        return self._stream.read(amount if amount and amount > 0 else _CHUNK)


class MultipartFile:
    """
    A ``multipart/form-data`` body with one part, ``file``, read from storage chunk by chunk.

    It has a length, so ``requests`` sends ``Content-Length`` (not chunked encoding) and never holds the
    whole file. Each attempt of a call makes a new one.
    """

    def __init__(self, file: ObjectStoragePath, filename: str, content_type: str, size: int, boundary: str) -> None:
        safe_name = filename.replace('"', "").replace("\r", "").replace("\n", "") or "image"
        self._head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{safe_name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self._file = file
        self._stream: IO[bytes] | None = None
        self._parts = [self._head, None, self._tail]
        self.len = len(self._head) + size + len(self._tail)

    def read(self, amount: int = _CHUNK) -> bytes:
        amount = amount if amount and amount > 0 else _CHUNK
        while self._parts:
            part = self._parts[0]
            if part is None:
                if self._stream is None:
                    self._stream = self._file.open("rb")
                chunk = self._stream.read(amount)
                if chunk:
                    return chunk
                self._stream.close()
                self._parts.pop(0)
                continue
            self._parts.pop(0)
            if part:
                return part
        return b""
