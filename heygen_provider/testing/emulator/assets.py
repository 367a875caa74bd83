"""Uploaded assets: files a v3 request can name by ``asset_id`` (images, audio, video, documents).

Uploads arrive two ways, as on HeyGen: ``POST /v3/assets`` (one multipart request, at most 32 MB)
or a direct upload (``POST /v3/assets/direct-uploads`` reserves an id and a signed ``upload_url``, a
``PUT`` sends the bytes there, ``POST /v3/assets/{asset_id}/complete`` finalises it). Bytes go to a
temporary directory, never into memory as a whole, so a direct upload of any size costs constant
memory; the directory is removed on reset and when the store is garbage collected.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The largest file ``POST /v3/assets`` takes (HeyGen: 32 MB).
ASSET_MAX_BYTES = 32 * 1024 * 1024
#: The largest file a direct upload may declare (an S3 single PUT: 5 GiB).
DIRECT_UPLOAD_MAX_BYTES = 5 * 1024**3
#: How long a direct upload's ``upload_url`` stays valid.
UPLOAD_URL_SECONDS = 3600
#: Bytes kept from the start of each file, to recognise its type.
HEAD_BYTES = 512
READ_CHUNK_BYTES = 256 * 1024

PNG, JPEG, MP4, WEBM, MP3, WAV, PDF, SRT = (
    "image/png",
    "image/jpeg",
    "video/mp4",
    "video/webm",
    "audio/mpeg",
    "audio/wav",
    "application/pdf",
    "application/x-subrip",
)
#: The types HeyGen's asset endpoints take (png, jpeg, mp4, webm, mp3, wav, pdf, srt).
SUPPORTED_TYPES = (PNG, JPEG, MP4, WEBM, MP3, WAV, PDF, SRT)
#: Other names clients use for the same types.
TYPE_ALIASES = {
    "image/jpg": JPEG,
    "image/pjpeg": JPEG,
    "audio/mp3": MP3,
    "audio/x-wav": WAV,
    "audio/wave": WAV,
    "audio/vnd.wave": WAV,
    "text/srt": SRT,
    "application/srt": SRT,
    "text/plain": SRT,
}
#: What each type counts as in the asset listings (``type``) and in create requests.
KINDS = {
    PNG: "image",
    JPEG: "image",
    MP4: "video",
    WEBM: "video",
    MP3: "audio",
    WAV: "audio",
    PDF: "document",
    SRT: "subtitle",
}
EXTENSIONS = {PNG: "png", JPEG: "jpg", MP4: "mp4", WEBM: "webm", MP3: "mp3", WAV: "wav", PDF: "pdf", SRT: "srt"}
SRT_START = re.compile(rb"^\s*\d+\s*\r?\n\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}")


def canonical_type(content_type: str | None) -> str | None:
    """A declared Content-Type as one of :data:`SUPPORTED_TYPES`, or ``None`` when it is none of them.

    :param content_type: e.g. ``image/jpg; charset=binary``.
    """
    if not content_type:
        return None
    base = content_type.split(";", 1)[0].strip().lower()
    base = TYPE_ALIASES.get(base, base)
    return base if base in SUPPORTED_TYPES else None


def sniff(head: bytes) -> str | None:
    """The type of a file from its first bytes (its "magic"), or ``None`` when it is none HeyGen takes.

    :param head: at least the first 16 bytes, :data:`HEAD_BYTES` for WebM and SRT.
    """
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[4:8] == b"ftyp":
        return MP4
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:HEAD_BYTES]:
        return WEBM
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return MP3
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return WAV
    if head.startswith(b"%PDF-"):
        return PDF
    if SRT_START.match(head.removeprefix(b"\xef\xbb\xbf")):
        return SRT
    return None


@dataclass
class Asset:
    """One uploaded (or reserved) asset.

    :param asset_id: 32 hex characters.
    :param filename: the file name the client gave.
    :param mime_type: the type found in the bytes (declared, for a direct upload not yet sent).
    :param size_bytes: bytes stored (declared, for a direct upload not yet sent).
    :param status: ``completed``, or for a direct upload ``pending_upload`` then ``uploaded`` then
        ``completed``.
    :param created_at: when it was created or reserved (the emulator's clock).
    :param source: ``upload`` (``POST /v3/assets``) or ``direct_upload``.
    :param path: where its bytes are.
    :param sha256: hex SHA-256 of the stored bytes, once stored.
    :param declared_size: the ``size_bytes`` a direct upload announced.
    :param declared_sha256: the ``checksum_sha256`` it announced, which the ``PUT`` must match.
    :param upload_expires_at: when a direct upload's ``upload_url`` stops working.
    :param upload_credential: the credential the upload ``PUT`` carried (``x-api-key``, ``bearer``),
        ``None`` when it carried none, as a presigned URL needs none.
    """

    asset_id: str
    filename: str
    mime_type: str
    size_bytes: int
    status: str
    created_at: float
    source: str
    path: Path
    sha256: str | None = None
    declared_size: int | None = None
    declared_sha256: str | None = None
    upload_expires_at: float | None = None
    upload_credential: str | None = None
    head: bytes = field(default=b"", repr=False)

    @property
    def etag(self) -> str:
        """A strong entity tag of the stored bytes."""
        return f'"{self.sha256 or self.asset_id}"'

    @property
    def kind(self) -> str:
        """``image``, ``video``, ``audio``, ``document`` or ``subtitle``."""
        return KINDS.get(self.mime_type, "file")

    def summary(self) -> dict[str, Any]:
        """JSON form for the admin API."""
        return {
            "asset_id": self.asset_id,
            "filename": self.filename,
            "mime_type": self.mime_type,
            "kind": self.kind,
            "size_bytes": self.size_bytes,
            "status": self.status,
            "source": self.source,
            "created_at": self.created_at,
            "sha256": self.sha256,
            "declared_size": self.declared_size,
            "declared_sha256": self.declared_sha256,
            "upload_credential": self.upload_credential,
        }

    def chunks(self, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive) of the stored file, read in chunks.

        :param start: the first byte.
        :param end: one past the last byte.
        """
        with self.path.open("rb") as stored:
            stored.seek(start)
            left = end - start
            while left > 0:
                chunk = stored.read(min(READ_CHUNK_BYTES, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk

    @property
    def length(self) -> int:
        """The size of the stored file (so that an asset can be served like a media file)."""
        return self.size_bytes


class AssetWriter:
    """Receives one direct upload's bytes in chunks, writing them to disk and hashing them as they come.

    :param asset: the reserved asset.
    """

    def __init__(self, asset: Asset) -> None:
        self.asset = asset
        self.limit = asset.declared_size if asset.declared_size is not None else DIRECT_UPLOAD_MAX_BYTES
        self.received = 0
        self.too_large = False
        self.head = b""
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._file = asset.path.open("wb")

    def write(self, chunk: bytes) -> bool:
        """Store a chunk; ``False`` once the upload passes its declared size (the rest is not wanted).

        :param chunk: the next bytes.
        """
        if self.received + len(chunk) > self.limit:
            self.too_large = True
            return False
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        self.received += len(chunk)
        self._sha256.update(chunk)
        self._md5.update(chunk)
        self._file.write(chunk)
        return True

    def close(self) -> None:
        """Stop writing."""
        self._file.close()

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of what was received."""
        return self._sha256.hexdigest()

    @property
    def etag(self) -> str:
        """S3's ETag of a single-part upload: the quoted hex MD5."""
        return f'"{self._md5.hexdigest()}"'


class AssetStore:
    """Every asset since the last reset."""

    def __init__(self) -> None:
        self.assets: dict[str, Asset] = {}
        self._directory: Path | None = None

    def _folder(self) -> Path:
        if self._directory is None:
            self._directory = Path(tempfile.mkdtemp(prefix="heygen-emulator-assets-"))
            weakref.finalize(self, shutil.rmtree, self._directory, True)
        return self._directory

    def add(self, filename: str, data: bytes, mime_type: str, now: float) -> Asset:
        """Store a file uploaded in one request.

        :param filename: the client's file name.
        :param data: its bytes.
        :param mime_type: the type found in the bytes.
        :param now: the emulator's time.
        """
        asset_id = uuid.uuid4().hex
        path = self._folder() / asset_id
        path.write_bytes(data)
        asset = Asset(
            asset_id=asset_id,
            filename=filename,
            mime_type=mime_type,
            size_bytes=len(data),
            status="completed",
            created_at=now,
            source="upload",
            path=path,
            sha256=hashlib.sha256(data).hexdigest(),
            head=data[:HEAD_BYTES],
        )
        self.assets[asset_id] = asset
        return asset

    def reserve(self, filename: str, content_type: str, size_bytes: int, now: float) -> Asset:
        """Reserve an asset for a direct upload.

        :param filename: the client's file name.
        :param content_type: the declared type, one of :data:`SUPPORTED_TYPES`.
        :param size_bytes: the declared size.
        :param now: the emulator's time.
        """
        asset_id = uuid.uuid4().hex
        asset = Asset(
            asset_id=asset_id,
            filename=filename,
            mime_type=content_type,
            size_bytes=size_bytes,
            status="pending_upload",
            created_at=now,
            source="direct_upload",
            path=self._folder() / asset_id,
            declared_size=size_bytes,
            upload_expires_at=now + UPLOAD_URL_SECONDS,
        )
        self.assets[asset_id] = asset
        return asset

    def stored(self, writer: AssetWriter, credential: str | None) -> None:
        """Record a finished direct upload.

        :param writer: the writer that received it.
        :param credential: the credential the ``PUT`` carried, if any.
        """
        asset = writer.asset
        asset.size_bytes = writer.received
        asset.sha256 = writer.sha256
        asset.head = writer.head
        asset.status = "uploaded"
        asset.upload_credential = credential

    def clear(self) -> None:
        """Forget every asset and delete the stored bytes."""
        self.assets.clear()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None
