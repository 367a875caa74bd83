"""The emulator's transport: aiohttp's web server in front of a synchronous request handler.

aiohttp (already a runtime dependency) parses HTTP/1.1 in C, keeps connections alive, decodes
chunked bodies, reads multipart uploads and streams large answers with back-pressure. This module
only converts between aiohttp's requests and responses and the emulator's own
:class:`~heygen_provider.testing.emulator.messages.HttpRequest` and
:class:`~heygen_provider.testing.emulator.messages.HttpResponse`, and carries out the transport
faults on the connection itself.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable

from aiohttp import BodyPartReader, web

from heygen_provider.testing.emulator.messages import RESET, BodySink, HttpRequest, HttpResponse, UploadedPart

#: The largest request body read into memory, multipart uploads included (aiohttp's default is
#: 1 MiB): above HeyGen's 32 MB asset limit, so that the application answers a slightly larger
#: upload with HeyGen's own 413.
MAX_BODY_BYTES = 40 * 1024 * 1024
#: Methods whose body the application may take as a stream (direct uploads are PUTs).
STREAMED_METHODS = frozenset({"PUT"})
STREAM_CHUNK_BYTES = 256 * 1024
#: How long stopping waits for answers in progress before cancelling them (a ``slow`` fault may be
#: sleeping for 30 s; the emulator it belonged to is going away).
SHUTDOWN_SECONDS = 0.1
SERVER_HEADER = "heygen-emulator"

Handler = Callable[[HttpRequest], HttpResponse]
#: Asked before a body is read: ``None`` to read it as usual, an answer to refuse it unread, or a
#: sink to stream it into.
StreamOpener = Callable[[HttpRequest], "HttpResponse | BodySink | None"]
WebHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


class WebServer:
    """aiohttp's low-level web server, sending every request, whatever its method and path, to one handler.

    The emulator routes requests itself, so aiohttp's application layer (router, middlewares,
    signals) would only add cost: about a quarter of aiohttp's CPU time per request. Tuned for many
    small answers: no access log, no signal handlers (the owner installs its own, or runs it in a
    thread, where none can be installed). An answer still in progress when its connection closes is
    cancelled, so that a ``slow`` answer whose client gave up does not linger.

    :param handler: the aiohttp handler; the emulator's comes from :func:`emulator_handler`.
    """

    def __init__(self, handler: WebHandler) -> None:
        self.handler = handler
        self.runner: web.ServerRunner | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port``; port 0 picks a free one.

        :param host: the address to bind.
        :param port: the port to bind, or 0.
        :returns: the port actually bound.
        """
        # web.Server binds to the running loop, so it is made here rather than in __init__.
        server = web.Server(self.handler, access_log=None, handler_cancellation=True)
        self.runner = web.ServerRunner(server, handle_signals=False, shutdown_timeout=SHUTDOWN_SECONDS)
        await self.runner.setup()
        try:
            await web.TCPSite(self.runner, host, port, backlog=1024).start()
        except BaseException:
            await self.close()
            raise
        self.port = int(self.runner.addresses[0][1])
        return self.port

    async def close(self) -> None:
        """Stop listening and close every connection, idle keep-alive ones included."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


def emulator_handler(handle: Handler, open_stream: StreamOpener | None = None) -> WebHandler:
    """The aiohttp handler that reads each request in full, answers it with ``handle`` and sends that.

    :param handle: turns a request into an answer; runs on the event loop, so it must not block.
    :param open_stream: asked first about each request of :data:`STREAMED_METHODS`, before its body
        is read; a sink it returns receives the body in chunks, with constant memory whatever its size.
    """

    async def answer(request: web.BaseRequest) -> web.StreamResponse:
        if open_stream is not None and request.method in STREAMED_METHODS:
            opened = open_stream(request_head(request))
            if isinstance(opened, HttpResponse):
                return await send_response(request, opened)
            if opened is not None:
                return await send_response(request, await stream_body(request, opened))
        return await send_response(request, handle(await read_request(request)))

    return answer


def request_head(request: web.BaseRequest) -> HttpRequest:
    """The emulator's view of an aiohttp request without its body.

    :param request: the aiohttp request.
    """
    # items() yields repeated names in order, so the last value wins, as HeyGen's servers read them.
    query = dict(request.query.items()) if request.query_string else {}
    return HttpRequest(request.method, request.path, query, request.headers)


async def stream_body(request: web.BaseRequest, sink: BodySink) -> HttpResponse:
    """Feed a request's body to ``sink`` in chunks of at most :data:`STREAM_CHUNK_BYTES`; answer its answer.

    :param request: the aiohttp request, its body not read yet.
    :param sink: what takes the body; told to abort when the client leaves midway.
    """
    finished = False
    try:
        await _continue(request)
        if request.body_exists:
            async for chunk in request.content.iter_chunked(STREAM_CHUNK_BYTES):
                if not sink.write(chunk):
                    break
        response = sink.finish()
        finished = True
        return response
    finally:
        if not finished:
            sink.abort()


async def read_request(request: web.BaseRequest) -> HttpRequest:
    """The emulator's view of an aiohttp request, with its body (or multipart parts) read.

    :param request: the aiohttp request.
    :raises web.HTTPRequestEntityTooLarge: when the body exceeds :data:`MAX_BODY_BYTES`.
    """
    head = request_head(request)
    # Most requests are bodiless status GETs: they skip all of this.
    if request.body_exists:
        # aiohttp reads 1 MiB at most unless told otherwise; clone() is its way to tell one request.
        request = request.clone(client_max_size=MAX_BODY_BYTES)
        await _continue(request)
        if request.content_type.startswith("multipart/"):
            head.parts = await read_parts(request)
        else:
            head.body = await request.read()
    return head


async def _continue(request: web.BaseRequest) -> None:
    # A client that sent "Expect: 100-continue" (curl does, for large bodies) waits for this before
    # sending its body; aiohttp's application layer would answer it, its low-level server does not.
    if request.version >= (1, 1) and request.headers.get("Expect", "").lower() == "100-continue":
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")


async def read_parts(request: web.BaseRequest) -> tuple[UploadedPart, ...]:
    """Every part of a multipart body (aiohttp's streaming reader), at most :data:`MAX_BODY_BYTES` in all.

    Route handlers then find an upload with :meth:`HttpRequest.part`, so an upload endpoint such as
    ``POST /v3/assets`` is one ordinary route.

    :param request: an aiohttp request whose Content-Type is ``multipart/*``.
    :raises web.HTTPBadRequest: when the body is not valid multipart.
    :raises web.HTTPRequestEntityTooLarge: when the parts exceed :data:`MAX_BODY_BYTES`.
    """
    parts: list[UploadedPart] = []
    total = 0
    try:
        async for part in await request.multipart():
            # A multipart/mixed part nested in a form is obsolete (RFC 7578); HeyGen's uploads never use it.
            if not isinstance(part, BodyPartReader):
                continue
            data = bytes(await part.read())
            total += len(data)
            if total > MAX_BODY_BYTES:
                raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY_BYTES, actual_size=total)
            parts.append(UploadedPart(part.name, part.filename, part.headers.get("Content-Type"), data))
    except ValueError as problem:
        raise web.HTTPBadRequest(text=f"invalid multipart body: {problem}") from None
    return tuple(parts)


async def send_response(request: web.BaseRequest, response: HttpResponse) -> web.StreamResponse:
    """Carry out an answer: wait, make it in a worker thread if it says so, disconnect, stream or answer at once.

    :param request: the aiohttp request being answered.
    :param response: the emulator's answer.
    """
    if response.delay_seconds:
        await asyncio.sleep(response.delay_seconds)
    if response.prepare is not None:
        response = await asyncio.get_running_loop().run_in_executor(None, response.prepare)
    if response.disconnect is not None:
        disconnect(request, response.disconnect)
        # aiohttp finds the transport closed when it writes this and drops it without a word.
        return web.Response()
    headers = [("Content-Type", response.content_type), ("Server", SERVER_HEADER), *response.headers]
    if response.stream is None:
        return web.Response(status=response.status, body=response.body, headers=headers)
    streamed = web.StreamResponse(status=response.status, headers=headers)
    streamed.content_length = response.content_length
    await streamed.prepare(request)
    if request.method != "HEAD":
        try:
            # write() waits for the socket to drain past a small buffer: memory stays constant
            # whatever the size of the file.
            for chunk in response.stream():
                await streamed.write(chunk)
        except ConnectionError:
            # The client left mid-download; aiohttp then skips the rest of the answer.
            return streamed
    await streamed.write_eof()
    return streamed


def disconnect(request: web.BaseRequest, how: str) -> None:
    """End the connection without answering: a FIN for :data:`CLOSE`, a TCP RST for :data:`RESET`.

    :param request: the aiohttp request whose connection ends.
    :param how: :data:`~heygen_provider.testing.emulator.messages.CLOSE` or
        :data:`~heygen_provider.testing.emulator.messages.RESET`.
    """
    transport = request.transport
    if transport is None:
        return
    if how == RESET:
        # A zero linger time makes the close send a TCP RST instead of a FIN.
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
