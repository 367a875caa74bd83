"""Media the emulator serves for finished videos, and the signed URLs that lead to them.

Each finished video's MP4, thumbnail and GIF are drawn from its request
(:mod:`~heygen_provider.testing.emulator.drawing`); tiny real files committed in ``assets/`` (see its
README) stand in for the avatar catalogue's previews, and for every video when the drawing libraries
are not installed. For download tests an MP4 can be padded to any size with a trailing ``free`` box, which players skip;
the padding is produced on the fly, so a 200 MB video costs no memory.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from typing import Protocol

from heygen_provider.testing.emulator.messages import HttpResponse

CHUNK_BYTES = 256 * 1024
KEY_PAIR_ID = "K2HEYGENEMULATOR"
MP4_TYPE = "video/mp4"
BOX_HEADER_BYTES = 8
LARGE_BOX_HEADER_BYTES = 16
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CAPTION_WORDS_PER_CUE = 8


@functools.cache
def asset(name: str) -> bytes:
    """The bytes of a committed asset: ``sample.mp4``, ``thumbnail.jpg`` or ``preview.gif``.

    :param name: the file name in ``assets/``.
    """
    return (resources.files(__package__) / "assets" / name).read_bytes()


class UrlSigner:
    """Signs media paths CloudFront-style: ``?Expires=<epoch>&Signature=<hmac>&Key-Pair-Id=<id>``.

    :param secret: the HMAC key, private to one emulator.
    """

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def _signature(self, path: str, expires: int) -> str:
        digest = hmac.new(self.secret, f"{path}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")

    def sign(self, path: str, expires: int) -> str:
        """``path`` with its signed query string.

        :param path: the media path.
        :param expires: when the URL stops working, in seconds since the epoch.
        """
        return f"{path}?Expires={expires}&Signature={self._signature(path, expires)}&Key-Pair-Id={KEY_PAIR_ID}"

    def refusal(self, path: str, query: dict[str, str], now: float) -> HttpResponse | None:
        """The 403 answer for a bad or expired signature, or ``None`` when the URL is valid.

        :param path: the requested path.
        :param query: its query parameters.
        :param now: the emulator's time.
        """
        expires_text = query.get("Expires", "")
        signature = query.get("Signature", "")
        if not expires_text.isdigit() or not hmac.compare_digest(signature, self._signature(path, int(expires_text))):
            return s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match")
        if now > int(expires_text):
            extra = f"<Expires>{_iso(int(expires_text))}</Expires><ServerTime>{_iso(now)}</ServerTime>"
            return s3_error(403, "AccessDenied", "Request has expired", extra)
        return None


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def s3_error(status: int, code: str, message: str, extra: str = "") -> HttpResponse:
    """An S3/CloudFront-style XML error, as HeyGen's media storage answers.

    :param status: HTTP status.
    :param code: the XML error code.
    :param message: the message.
    :param extra: further XML elements.
    """
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>{extra}</Error>'
    ).encode()
    return HttpResponse(status, body, content_type="application/xml")


class ServedFile(Protocol):
    """What :func:`file_response` serves: a length and a way to read any byte range in chunks."""

    @property
    def length(self) -> int:
        """The total size."""
        ...

    @property
    def etag(self) -> str:
        """A strong entity tag of the content."""
        ...

    def chunks(self, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive), in chunks."""
        ...


@dataclass(frozen=True)
class VirtualFile:
    """A file made of real bytes followed by zero padding, read without building it.

    :param head: the real bytes.
    :param padding: zero bytes after them.
    """

    head: bytes
    padding: int = 0

    @property
    def length(self) -> int:
        """The total size."""
        return len(self.head) + self.padding

    @property
    def etag(self) -> str:
        """A strong entity tag of the content, as S3 and CloudFront send one."""
        return f'"{hashlib.md5(self.head, usedforsecurity=False).hexdigest()}-{self.padding}"'

    def chunks(self, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive), in chunks of at most :data:`CHUNK_BYTES`.

        :param start: the first byte.
        :param end: one past the last byte.
        """
        if start < len(self.head):
            head_end = min(end, len(self.head))
            for offset in range(start, head_end, CHUNK_BYTES):
                yield self.head[offset : min(offset + CHUNK_BYTES, head_end)]
            start = head_end
        zeros = bytes(CHUNK_BYTES)
        while start < end:
            size = min(CHUNK_BYTES, end - start)
            yield zeros if size == CHUNK_BYTES else bytes(size)
            start += size


def padded_mp4(size_bytes: int | None, video: bytes | None = None) -> VirtualFile:
    """An MP4, padded to ``size_bytes`` with a trailing ``free`` box when that is larger.

    :param size_bytes: the wanted size; ``None`` or anything too small gives the plain video.
    :param video: the MP4; the committed sample unless given.
    """
    sample = asset("sample.mp4") if video is None else video
    padding = (size_bytes or 0) - len(sample)
    if padding < BOX_HEADER_BYTES:
        return VirtualFile(sample)
    if padding <= 0xFFFFFFFF:
        header = struct.pack(">I4s", padding, b"free")
    else:
        # Boxes over 4 GiB store size 1 and the real size in a 64-bit field after the type.
        header = struct.pack(">I4sQ", 1, b"free", padding)
    return VirtualFile(sample + header, padding - len(header))


def file_response(file: ServedFile, content_type: str, range_header: str | None) -> HttpResponse:
    """Serve a file, honouring a single ``Range: bytes=a-b`` request.

    :param file: the file.
    :param content_type: its media type.
    :param range_header: the request's Range header, if any.
    """
    length = file.length
    start, end, status = 0, length, 200
    headers = [("Accept-Ranges", "bytes"), ("ETag", file.etag)]
    match = RANGE.match(range_header.strip()) if range_header else None
    if match is not None and (match.group(1) or match.group(2)):
        first, last = match.group(1), match.group(2)
        if first:
            start, end = int(first), min(length, int(last) + 1) if last else length
        else:
            start, end = max(0, length - int(last)), length
        if start >= end:
            refusal = s3_error(416, "InvalidRange", "The requested range is not satisfiable")
            refusal.headers.append(("Content-Range", f"bytes */{length}"))
            return refusal
        status = 206
        headers.append(("Content-Range", f"bytes {start}-{end - 1}/{length}"))
    if end - start <= CHUNK_BYTES:
        return HttpResponse(status, b"".join(file.chunks(start, end)), content_type, headers)
    return HttpResponse(
        status,
        content_type=content_type,
        headers=headers,
        stream=lambda: file.chunks(start, end),
        content_length=end - start,
    )


def _cues(script: str, duration: float) -> list[tuple[float, float, str]]:
    words = script.split()
    if not words:
        return []
    lines = [
        " ".join(words[index : index + CAPTION_WORDS_PER_CUE]) for index in range(0, len(words), CAPTION_WORDS_PER_CUE)
    ]
    total_characters = sum(len(line) for line in lines)
    cues, start = [], 0.0
    for line in lines:
        end = start + duration * len(line) / total_characters
        cues.append((start, end, line))
        start = end
    return cues


def _timestamp(seconds: float, separator: str) -> str:
    milliseconds = round(seconds * 1000)
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, milliseconds = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}{separator}{milliseconds:03d}"


def captions(script: str, duration: float, form: str) -> bytes:
    """Captions for the spoken script, spread over the video's length.

    :param script: the spoken text.
    :param duration: the video length in seconds.
    :param form: ``srt`` or ``vtt``.
    """
    separator = "," if form == "srt" else "."
    blocks = []
    for number, (start, end, text) in enumerate(_cues(script, duration), start=1):
        timing = f"{_timestamp(start, separator)} --> {_timestamp(end, separator)}"
        blocks.append(f"{number}\n{timing}\n{text}\n" if form == "srt" else f"{timing}\n{text}\n")
    document = "\n".join(blocks)
    return (document if form == "srt" else "WEBVTT\n\n" + document).encode()
