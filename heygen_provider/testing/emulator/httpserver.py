"""A small HTTP/1.1 server on plain asyncio.

FastAPI on uvicorn answered about 4,200 status requests a second on the 2-core reference machine,
below the 5,000 the triggerer benchmark needs; this keep-alive server with a minimal parser answers
roughly twice that. Owning the socket also makes the transport faults (dropped and reset
connections, slow answers) straightforward.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024
CLOSE = "close"
RESET = "reset"


@dataclass(slots=True)
class HttpRequest:
    """One parsed request.

    :param method: upper-case method.
    :param path: the decoded path, without the query.
    :param query: query parameters (the last value wins when repeated).
    :param headers: headers with lower-case names.
    :param body: the raw body.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


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
    """

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: Callable[[], Iterable[bytes]] | None = None
    content_length: int | None = None
    delay_seconds: float = 0.0
    disconnect: str | None = None

    @property
    def immediate(self) -> bool:
        """Whether it can be written at once, without awaiting anything."""
        return self.stream is None and not self.delay_seconds and self.disconnect is None


def json_response(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    """An ``application/json`` answer.

    :param status: HTTP status code.
    :param payload: anything :func:`json.dumps` accepts.
    :param headers: further headers.
    """
    body = json.dumps(payload, separators=(",", ":")).encode()
    return HttpResponse(status, body, headers=headers or [])


class _DateHeader:
    """The Date header, formatted once a second rather than once a request."""

    def __init__(self) -> None:
        self.second = -1
        self.value = ""

    def now(self) -> str:
        second = int(time.time())
        if second != self.second:
            self.second = second
            self.value = formatdate(second, usegmt=True)
        return self.value


_DATE = _DateHeader()
_REASONS = {status.value: status.phrase for status in HTTPStatus}


def encode_head(response: HttpResponse, length: int, keep_alive: bool) -> bytes:
    """The status line and headers of an answer.

    :param response: the answer.
    :param length: the Content-Length to announce.
    :param keep_alive: whether the connection stays open afterwards.
    """
    lines = [
        f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Unknown')}",
        "Server: heygen-emulator",
        f"Date: {_DATE.now()}",
        f"Content-Type: {response.content_type}",
        f"Content-Length: {length}",
    ]
    lines.extend(f"{name}: {value}" for name, value in response.headers)
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _parse_query(query_string: str) -> dict[str, str]:
    # parse_qsl is a third of the parsing time of a status request; its general path is only
    # needed when something is escaped.
    if "%" in query_string or "+" in query_string:
        return dict(parse_qsl(query_string, keep_blank_values=True))
    pairs = (pair.partition("=") for pair in query_string.split("&") if pair)
    return {name: value for name, _, value in pairs}


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


Handler = Callable[[HttpRequest], HttpResponse]


class _Connection(asyncio.Protocol):
    """One client connection: parses requests in order and answers them."""

    def __init__(self, handler: Handler, registry: set[_Connection]) -> None:
        self.handler = handler
        self.registry = registry
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.closed = False
        self.continue_sent = False
        self.writable = asyncio.Event()
        self.writable.set()
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.registry.discard(self)
        self.writable.set()
        if self.task is not None:
            self.task.cancel()

    def abort(self) -> None:
        """Cut the connection at once."""
        if self.transport is not None:
            self.transport.abort()

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.busy:
            self._process()

    def _process(self) -> None:
        transport = self.transport
        assert transport is not None
        while self.buffer and not self.busy and not self.closed:
            try:
                parsed = self._parse()
            except _BadRequest as problem:
                error = json_response(problem.status, {"error": str(problem)})
                transport.write(encode_head(error, len(error.body), keep_alive=False) + error.body)
                transport.close()
                self.closed = True
                return
            if parsed is None:
                return
            request, keep_alive = parsed
            response = self.handler(request)
            if response.immediate:
                body = b"" if request.method == "HEAD" else response.body
                transport.write(encode_head(response, len(response.body), keep_alive) + body)
                if not keep_alive:
                    transport.close()
                    self.closed = True
            else:
                self.busy = True
                self.task = asyncio.get_running_loop().create_task(self._answer_later(request, response, keep_alive))

    def _parse(self) -> tuple[HttpRequest, bool] | None:
        buffer = self.buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_HEAD_BYTES:
                raise _BadRequest(431, "request head too large")
            return None
        lines = buffer[:end].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _BadRequest(400, "malformed request line")
        method, target, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, separator, value = line.partition(":")
            if not separator:
                raise _BadRequest(400, "malformed header line")
            headers[name.strip().lower()] = value.strip()
        if "transfer-encoding" in headers:
            raise _BadRequest(501, "chunked request bodies are not supported; send Content-Length")
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise _BadRequest(400, "invalid Content-Length") from None
        if not 0 <= length <= MAX_BODY_BYTES:
            raise _BadRequest(413, "request body too large")
        total = end + 4 + length
        if len(buffer) < total:
            if headers.get("expect", "").lower() == "100-continue" and not self.continue_sent:
                self.continue_sent = True
                assert self.transport is not None
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            return None
        body = bytes(buffer[end + 4 : total])
        del buffer[:total]
        self.continue_sent = False
        path, _, query_string = target.partition("?")
        if "%" in path:
            path = unquote(path)
        query = _parse_query(query_string) if query_string else {}
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        return HttpRequest(method.upper(), path, query, headers, body), keep_alive

    async def _answer_later(self, request: HttpRequest, response: HttpResponse, keep_alive: bool) -> None:
        transport = self.transport
        assert transport is not None
        try:
            if response.delay_seconds:
                await asyncio.sleep(response.delay_seconds)
            if self.closed:
                return
            if response.disconnect is not None:
                self._disconnect(transport, response.disconnect)
                return
            if response.stream is None:
                length = len(response.body)
                transport.write(encode_head(response, length, keep_alive))
                if request.method != "HEAD":
                    transport.write(response.body)
            else:
                length = response.content_length or 0
                transport.write(encode_head(response, length, keep_alive))
                if request.method != "HEAD":
                    for chunk in response.stream():
                        await self.writable.wait()
                        if self.closed:
                            return
                        transport.write(chunk)
            if not keep_alive:
                transport.close()
                self.closed = True
        finally:
            self.busy = False
            self.task = None
        if not self.closed and self.buffer:
            self._process()

    def _disconnect(self, transport: asyncio.Transport, how: str) -> None:
        if how == RESET:
            # A zero linger time makes close() send a TCP RST instead of a FIN.
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
        self.closed = True


class RunningServer:
    """A listening server and its open connections.

    :param handler: turns a request into an answer; runs on the event loop, so it must not block.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections: set[_Connection] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    def _connection(self) -> _Connection:
        connection = _Connection(self.handler, self.connections)
        self.connections.add(connection)
        return connection

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port``; port 0 picks a free one.

        :param host: the address to bind.
        :param port: the port to bind, or 0.
        :returns: the port actually bound.
        """
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(self._connection, host, port, backlog=1024)
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self.port

    def close(self) -> None:
        """Stop listening and cut every open connection (keep-alive clients would hold it open)."""
        if self.server is not None:
            self.server.close()
        for connection in list(self.connections):
            connection.abort()
