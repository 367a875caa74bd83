"""
Uploading a character's photo (``image_path``) to HeyGen's v3 assets, streamed in constant memory.

* Up to 32 MB: ``POST /v3/assets`` as ``multipart/form-data`` (field ``file``).
* Larger: HeyGen's direct upload: ``POST /v3/assets/direct-uploads`` for a presigned URL, ``PUT`` the
  bytes there (without the API key: it is another host), then ``POST /v3/assets/{asset_id}/complete``.

Every file is checked to be a JPEG or PNG before anything is sent. Each upload carries an
``Idempotency-Key`` derived from the render's (:func:`heygen_provider.idempotency.upload_key`), so a
retried call creates one asset; and the operator records the asset ids, so a retried task sends no photo
twice.

The one owner of uploading: the operators (:func:`create_body`, :func:`upload_photos`,
:func:`with_asset_ids`: the request is translated once, its photos standing in the body until uploaded)
and :meth:`~heygen_provider.hooks.heygen.HeyGenHook.create_video` both upload through here, over the
:class:`AssetTransport` seam the hook provides.

``requests`` is imported where a direct upload puts its bytes, the one function-level import here: the
triggerer imports this module (through the hook) and never loads a second HTTP client.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from airflow.sdk import ObjectStoragePath

from heygen_provider.connection import is_loopback
from heygen_provider.exceptions import HeyGenMalformedResponseError, HeyGenRequestValidationError
from heygen_provider.idempotency import completion_key, upload_key

if TYPE_CHECKING:
    from collections.abc import Callable

    from heygen_provider.api_versions import HeyGenApi
    from heygen_provider.connection import HeyGenConnectionSettings
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


class AssetTransport(Protocol):
    """
    What uploading needs from the API client: the connection's settings (timeouts of the direct upload's
    ``PUT``) and one ``POST`` with the retry policy and the answer parser.
    :class:`~heygen_provider.hooks.heygen.HeyGenHook` is one.
    """

    @property
    def settings(self) -> HeyGenConnectionSettings: ...

    def post(
        self,
        path: str,
        *,
        json_body: Any = None,
        body: Callable[[], Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """The answer's ``data``; ``body`` makes a fresh request body for each attempt."""
        ...


@dataclass(frozen=True)
class Photo:
    """
    A character's local photo (``image_path``), uploaded to HeyGen's assets before the create.

    :param scene: the index of the scene whose character it is.
    :param path: the ``image_path``.
    :param stand_in: what stands for its asset id in the create body of :func:`create_body` until it is
        uploaded (empty where no body names it).
    """

    scene: int
    path: str
    stand_in: str = ""


def create_body(api: HeyGenApi, request: VideoGenerateRequest) -> tuple[dict[str, Any], tuple[Photo, ...]]:
    """
    The create call's body for ``request`` in API version ``api``, translated once, and the photos to
    upload before it is sent: each photo's asset id is a stand-in in the body until
    :func:`with_asset_ids` fills it in. No HTTP call.

    :raises HeyGenRequestValidationError: naming each field the API version cannot express.
    """
    stand_ins: dict[str, str] = {}
    photos = tuple(
        Photo(index, path, stand_ins.setdefault(path, f"upload:{uuid.uuid4().hex}"))
        for index, path in _image_paths(request)
    )
    return api.request_body(_with_image_assets(request, stand_ins)), photos


def upload_photos(
    transport: AssetTransport, photos: Sequence[Photo], uploaded: Mapping[str, str], render_key: str | None
) -> dict[str, str]:
    """
    Upload every photo not in ``uploaded``; each file is checked before the first byte is sent.

    :param uploaded: ``image_path`` to asset id of earlier uploads (an earlier try's), not sent again.
    :param render_key: the render's ``Idempotency-Key``; each upload derives its own from it.
    :returns: every ``image_path`` to its asset id, earlier ones included.
    :raises HeyGenRequestValidationError: when a file is missing or not a JPEG or PNG, before any upload.
    """
    assets = dict(uploaded)
    files = {photo: _checked_image(photo.scene, photo.path) for photo in photos if photo.path not in assets}
    for photo, (file, content_type, size) in files.items():
        if photo.path in assets:
            continue  # another scene's character, same photo
        key = upload_key(render_key, photo.path) if render_key else None
        assets[photo.path] = _upload(transport, file, content_type, size, key)
    return assets


def with_asset_ids(body: Mapping[str, Any], photos: Sequence[Photo], assets: Mapping[str, str]) -> dict[str, Any]:
    """``body`` (of :func:`create_body`) with each photo's stand-in replaced by its uploaded asset id."""
    asset_ids = {photo.stand_in: assets[photo.path] for photo in photos}

    def filled(value: Any) -> Any:
        if isinstance(value, dict):
            return {name: filled(item) for name, item in value.items()}
        if isinstance(value, list):
            return [filled(item) for item in value]
        if isinstance(value, str):
            return asset_ids.get(value, value)
        return value

    return filled(dict(body)) if asset_ids else dict(body)


def upload_images(
    transport: AssetTransport, request: VideoGenerateRequest, uploaded: Mapping[str, str], idempotency_key: str | None
) -> tuple[VideoGenerateRequest, dict[str, str]]:
    """See :meth:`heygen_provider.hooks.heygen.HeyGenHook.upload_images`."""
    photos = [Photo(index, path) for index, path in _image_paths(request)]
    if not photos:
        return request, dict(uploaded)
    assets = upload_photos(transport, photos, uploaded, idempotency_key)
    return _with_image_assets(request, assets), assets


def _image_paths(request: VideoGenerateRequest) -> list[tuple[int, str]]:
    return [
        (index, scene.character.image_path)
        for index, scene in enumerate(request.video_inputs)
        if scene.character.image_path is not None
    ]


def _with_image_assets(request: VideoGenerateRequest, asset_ids: Mapping[str, str]) -> VideoGenerateRequest:
    """``request`` with ``image_asset_id`` ``asset_ids[path]`` in place of each ``image_path``."""
    if not asset_ids:
        return request
    scenes = [
        scene.model_copy(
            update={
                "character": scene.character.model_copy(
                    update={"image_path": None, "image_asset_id": asset_ids[scene.character.image_path]}
                )
            }
        )
        if scene.character.image_path is not None
        else scene
        for scene in request.video_inputs
    ]
    return request.model_copy(update={"video_inputs": scenes})


def _storage_path(path: str) -> ObjectStoragePath:
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


def _upload(transport: AssetTransport, file: ObjectStoragePath, content_type: str, size: int, key: str | None) -> str:
    headers = {"Idempotency-Key": key} if key else {}
    if size <= MULTIPART_LIMIT:
        boundary = uuid.uuid4().hex
        data = transport.post(
            ASSETS_PATH,
            body=lambda: MultipartFile(file, file.name, content_type, size, boundary),
            headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            idempotent=key is not None,
        )
        return _asset_id(data)
    started = transport.post(
        DIRECT_UPLOADS_PATH,
        json_body={"filename": file.name, "content_type": content_type, "size_bytes": size},
        headers=headers,
        idempotent=key is not None,
    )
    asset_id = _asset_id(started)
    _put_bytes(transport, file, started, size)
    completed = transport.post(
        f"{ASSETS_PATH}/{asset_id}/complete",
        json_body={},
        headers={"Idempotency-Key": completion_key(key)} if key else None,
        idempotent=True,  # completing an upload is idempotent by HeyGen's contract
    )
    return _asset_id(completed)


def _put_bytes(transport: AssetTransport, file: ObjectStoragePath, started: Mapping[str, Any], size: int) -> None:
    import requests

    upload_url = started.get("upload_url")
    parts = urlsplit(upload_url if isinstance(upload_url, str) else "")
    if not (parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname or ""))):
        raise HeyGenMalformedResponseError("the direct upload answer carries no https upload_url", status_code=200)
    upload_headers = {str(name): str(value) for name, value in (started.get("upload_headers") or {}).items()}
    settings = transport.settings
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
