"""The transport under the emulator: chunked bodies, multipart uploads and connection faults on the wire."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator

import aiohttp
import httpx
import pytest

from heygen_provider.testing.emulator import HeyGenEmulator, webserver
from heygen_provider.testing.emulator.messages import HttpRequest, HttpResponse, json_response

from .helpers import GENERATE, video_body

CLIP = bytes(range(256)) * 1200  # 300 KiB: several reads of aiohttp's multipart reader


def test_chunked_request_body_creates_a_video(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    encoded = json.dumps(video_body(title="Chunked")).encode()

    def chunks() -> Iterator[bytes]:
        # A generator has no length, so httpx sends Transfer-Encoding: chunked.
        yield from (encoded[start : start + 100] for start in range(0, len(encoded), 100))

    answer = api.post(GENERATE, content=chunks(), headers={"Content-Type": "application/json"})
    assert answer.request.headers["Transfer-Encoding"] == "chunked"
    assert answer.status_code == 200, answer.text
    [post] = heygen_emulator.requests(method="POST")
    assert post.json == video_body(title="Chunked")
    assert [video["video_id"] for video in heygen_emulator.videos()] == [post.video_id]


def _raw_get(emulator: HeyGenEmulator, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Api-Key: {emulator.api_key}\r\n\r\n".encode())
        return connection.recv(65536)


def test_drop_closes_cleanly_and_reset_sends_an_rst(heygen_emulator: HeyGenEmulator) -> None:
    heygen_emulator.add_fault("drop", path="/v2/voices")
    # An orderly close (FIN) with no answer: the read ends with no bytes.
    assert _raw_get(heygen_emulator, "/v2/voices") == b""
    heygen_emulator.add_fault("reset", path="/v2/voices")
    with pytest.raises(ConnectionResetError):
        _raw_get(heygen_emulator, "/v2/voices")
    assert _raw_get(heygen_emulator, "/v2/voices").startswith(b"HTTP/1.1 200 OK\r\n")


def test_multipart_upload_is_logged_without_its_bytes(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    answer = api.post(GENERATE, data={"title": "Board pack"}, files={"file": ("clip.mp4", CLIP, "video/mp4")})
    # The creation endpoint takes JSON only, but the log shows what the client sent instead.
    assert answer.status_code == 400
    [post] = heygen_emulator.requests(method="POST")
    assert post.json == [
        {"name": "title", "filename": None, "content_type": None, "size": 10, "value": "Board pack"},
        {"name": "file", "filename": "clip.mp4", "content_type": "video/mp4", "size": len(CLIP)},
    ]


@pytest.fixture
async def upload_server() -> AsyncIterator[tuple[str, list[HttpRequest]]]:
    """A web server whose handler records what :func:`webserver.read_request` made of each request."""
    received: list[HttpRequest] = []

    def handle(request: HttpRequest) -> HttpResponse:
        received.append(request)
        return json_response(200, {"parts": len(request.parts)})

    server = webserver.WebServer(webserver.emulator_handler(handle))
    port = await server.start("127.0.0.1", 0)
    yield f"http://127.0.0.1:{port}/v3/assets", received
    await server.close()


def _form() -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("title", "Board pack")
    form.add_field("file", CLIP, filename="clip.mp4", content_type="video/mp4")
    return form


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_multipart_parts_are_read_for_route_handlers(
    upload_server: tuple[str, list[HttpRequest]], chunked: bool
) -> None:
    url, received = upload_server
    async with aiohttp.ClientSession() as session, session.post(url, data=_form(), chunked=chunked or None) as answer:
        assert answer.status == 200
        assert await answer.json() == {"parts": 2}
    [request] = received
    assert ("Transfer-Encoding" in request.headers) is chunked
    assert [(part.name, part.filename) for part in request.parts] == [("title", None), ("file", "clip.mp4")]
    assert request.parts[0].data == b"Board pack"
    upload = request.part("file")
    assert upload is not None and (upload.content_type, upload.data) == ("video/mp4", CLIP)
    assert request.body == b"" and request.part("missing") is None


async def test_uploads_over_the_limit_are_refused(
    upload_server: tuple[str, list[HttpRequest]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = upload_server
    monkeypatch.setattr(webserver, "MAX_BODY_BYTES", len(CLIP) - 1)
    async with aiohttp.ClientSession() as session, session.post(url, data=_form()) as answer:
        assert answer.status == 413
    assert received == []


def test_a_client_that_expects_100_continue_is_told_to_send_its_body(heygen_emulator: HeyGenEmulator) -> None:
    body = json.dumps(video_body()).encode()
    head = (
        f"POST {GENERATE} HTTP/1.1\r\nHost: x\r\nX-Api-Key: {heygen_emulator.api_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", heygen_emulator.port), timeout=5) as connection:
        connection.sendall(head.encode())
        assert connection.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        connection.sendall(body)
        assert connection.recv(65536).startswith(b"HTTP/1.1 200 OK\r\n")
    assert len(heygen_emulator.videos()) == 1
