"""
Reliability item 14: the connection's ``request_timeout`` bounds a whole answer on the sync path, also
one a server drips a byte at a time (each socket read then returns in time, so requests' own read
timeout never fires: 20 s were seen with a 2 s timeout).

The server below drips far longer than the timeout; the tests assert that the client hung up long
before the answer was complete, not how fast it did.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from heygen_provider.exceptions import HeyGenTransportError
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.retry import RetryPolicy
from tests.fixtures.scenes import emulator_scene

API_KEY = "sk-DRIP-test-key"
#: One byte every DRIP_SECONDS: the whole answer would take over 50 s, the timeout is 1 s.
DRIP_SECONDS = 0.2
REQUEST_TIMEOUT = 1.0
STATUS = {"code": 100, "data": {"id": "vid-1", "status": "processing", "padding": "x" * 200}, "message": "ok"}


@dataclass
class DrippingServer:
    """Answers every request with the head at once, then the body one byte at a time."""

    chunked: bool = False
    port: int = 0
    #: per connection: bytes of body sent before the client hung up (or all of them)
    sent: list[int] = field(default_factory=list)
    body_size: int = 0

    def serve(self) -> Iterator[DrippingServer]:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.1)  # so the accept loop sees ``stop``
        self.port = listener.getsockname()[1]
        stop = threading.Event()

        def answer(connection: socket.socket) -> None:
            with connection:
                connection.recv(65536)
                body = json.dumps(STATUS).encode()
                self.body_size = len(body)
                framing = b"Transfer-Encoding: chunked" if self.chunked else b"Content-Length: %d" % len(body)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + framing + b"\r\n\r\n")
                sent = 0
                try:
                    for byte in body:
                        piece = bytes([byte])
                        connection.sendall(b"1\r\n" + piece + b"\r\n" if self.chunked else piece)
                        sent += 1
                        if stop.wait(DRIP_SECONDS):
                            break
                    if self.chunked:
                        connection.sendall(b"0\r\n\r\n")
                except OSError:  # the client hung up: what the test wants to see
                    pass
                self.sent.append(sent)

        def accept() -> None:
            while not stop.is_set():
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                connection.settimeout(None)
                threading.Thread(target=answer, args=(connection,), daemon=True).start()

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            listener.close()
            thread.join(5)


@pytest.fixture(params=["content-length", "chunked"])
def dripping(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[DrippingServer]:
    server = DrippingServer(chunked=request.param == "chunked")
    for running in server.serve():
        connection = {
            "conn_type": "heygen",
            "host": f"http://127.0.0.1:{running.port}",
            "password": API_KEY,
            "extra": json.dumps(
                {"request_timeout": REQUEST_TIMEOUT, "create_timeout": REQUEST_TIMEOUT, "api_version": "legacy"}
            ),
        }
        monkeypatch.setenv("AIRFLOW_CONN_HEYGEN_DEFAULT", json.dumps(connection))
        yield running


def hung_up_early(server: DrippingServer) -> bool:
    """Every connection was dropped by the client with most of the body still unsent."""
    deadline = time.monotonic() + 10
    while not server.sent and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(server.sent) and all(sent < server.body_size // 2 for sent in server.sent)


def test_a_dripped_status_answer_ends_in_a_transport_error_bounded_by_the_request_timeout(
    dripping: DrippingServer,
) -> None:
    hook = HeyGenHook(retry_policy=RetryPolicy(attempts=1))
    with pytest.raises(HeyGenTransportError, match=f"not complete within {REQUEST_TIMEOUT:g} s"):
        hook.get_video_status("vid-1")
    assert hung_up_early(dripping), (dripping.sent, dripping.body_size)


def test_a_dripped_answer_to_the_legacy_create_is_not_sent_again(dripping: DrippingServer) -> None:
    from heygen_provider.models import VideoGenerateRequest

    request = VideoGenerateRequest.model_validate({"video_inputs": [emulator_scene()]})
    with pytest.raises(HeyGenTransportError, match="may have reached HeyGen") as caught:
        HeyGenHook().create_video(request)
    assert caught.value.request_may_have_reached_server, "the operator makes this a HeyGenSubmitUncertainError"
    assert hung_up_early(dripping), (dripping.sent, dripping.body_size)
    assert len(dripping.sent) == 1, "a create that may have reached HeyGen is never sent again"
