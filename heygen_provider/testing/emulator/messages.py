"""The requests the emulator answers and the answers it gives, free of any HTTP server.

The application (:mod:`~heygen_provider.testing.emulator.server`) works on these plain values; the
transport (:mod:`~heygen_provider.testing.emulator.webserver`) builds them from aiohttp's requests and
turns them into aiohttp's responses. Keeping aiohttp out of the application keeps its hot path
synchronous and lets it be tested without a socket.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

#: :attr:`HttpResponse.disconnect`: close the connection (a FIN) instead of answering.
CLOSE = "close"
#: :attr:`HttpResponse.disconnect`: reset the connection (a TCP RST) instead of answering.
RESET = "reset"


@dataclass(frozen=True, slots=True)
class UploadedPart:
    """One part of a ``multipart/form-data`` body.

    :param name: the form field's name.
    :param filename: the file name a file upload carries, else ``None``.
    :param content_type: the part's Content-Type, if it gave one.
    :param data: the part's bytes.
    """

    name: str | None
    filename: str | None
    content_type: str | None
    data: bytes

    def logged(self) -> dict[str, Any]:
        """What the request log shows: name, file name, type and size, and the text of a plain field.

        A file's bytes stay out of the log, which would otherwise hold every upload of a long test.
        """
        shown: dict[str, Any] = {
            "name": self.name,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": len(self.data),
        }
        if self.filename is None:
            shown["value"] = self.data.decode("utf-8", "replace")
        return shown


@dataclass(slots=True)
class HttpRequest:
    """One request, read in full.

    :param method: upper-case method.
    :param path: the decoded path, without the query.
    :param query: query parameters (the last value wins when repeated).
    :param headers: the headers; lookups ignore case.
    :param body: the raw body, decoded from chunked transfer encoding; empty for a multipart body.
    :param parts: the parts of a ``multipart/form-data`` body, in order.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes = b""
    parts: tuple[UploadedPart, ...] = ()

    def part(self, name: str) -> UploadedPart | None:
        """The first multipart part named ``name``, such as the ``file`` of an asset upload.

        :param name: the form field's name.
        """
        return next((part for part in self.parts if part.name == name), None)


@dataclass(slots=True)
class HttpResponse:
    """An answer, or an instruction to misbehave.

    :param status: HTTP status code.
    :param body: the body when it is small enough to hold in memory.
    :param content_type: the Content-Type header.
    :param headers: further headers.
    :param stream: produces the body in chunks when it is too large to hold; needs ``content_length``.
    :param content_length: the length of a streamed body.
    :param delay_seconds: wait this long before answering.
    :param disconnect: :data:`CLOSE` or :data:`RESET` to end the connection instead of answering.
    :param prepare: makes the real answer when that takes long (drawing a video's media): the transport
        calls it in a worker thread, so that the event loop goes on serving other requests meanwhile.
    """

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: Callable[[], Iterable[bytes]] | None = None
    content_length: int | None = None
    delay_seconds: float = 0.0
    disconnect: str | None = None
    prepare: Callable[[], HttpResponse] | None = None


class BodySink(Protocol):
    """Receives a request body chunk by chunk instead of holding it, for uploads of any size."""

    def write(self, chunk: bytes) -> bool:
        """Take the next chunk; ``False`` when no more is wanted (the rest is not read)."""
        ...

    def finish(self) -> HttpResponse:
        """The answer, once the body has been read."""
        ...

    def abort(self) -> None:
        """The body did not arrive in full: the client left."""
        ...


def json_response(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    """An ``application/json`` answer.

    :param status: HTTP status code.
    :param payload: anything :func:`json.dumps` accepts.
    :param headers: further headers.
    """
    body = json.dumps(payload, separators=(",", ":")).encode()
    return HttpResponse(status, body, headers=headers or [])
