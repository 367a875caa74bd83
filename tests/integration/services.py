"""Real local servers the campaign pipeline talks to: S3-compatible storage (moto's) and SMTP (aiosmtpd)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest

REGION = "us-east-1"


@dataclass
class S3Server:
    endpoint: str

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test"
        )

    def objects(self, bucket: str) -> dict[str, int]:
        """Every object in ``bucket`` and its size."""
        listing = self.client().list_objects_v2(Bucket=bucket)
        return {item["Key"]: item["Size"] for item in listing.get("Contents", [])}

    def connection(self, conn_id: str) -> dict[str, str]:
        """The environment variable of an Airflow ``aws`` connection to this server."""
        extra = {"endpoint_url": self.endpoint, "region_name": REGION}
        value = {"conn_type": "aws", "login": "test", "password": "test", "extra": extra}
        return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(value)}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server on a free loopback port, for the session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)

    def connection(self, conn_id: str) -> dict[str, str]:
        value = {
            "conn_type": "smtp",
            "host": self.host,
            "port": self.port,
            "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "airflow@example.com"},
        }
        return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(value)}


def html_text(message: Message) -> str:
    """The text of a message's HTML part, entities unescaped."""
    import html

    part = next(part for part in message.walk() if part.get_content_type() == "text/html")
    return html.unescape(part.get_payload(decode=True).decode())


class _Collect:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.server.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """aiosmtpd on a free loopback port, keeping every message it receives."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = SmtpServer("127.0.0.1", port)
    controller = Controller(_Collect(server), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
