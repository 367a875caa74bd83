"""
The campaign pipeline against the real servers a team has: videos stored in S3-compatible object
storage (moto's server, through the Amazon provider's s3fs support) and the summary e-mailed through a
real SMTP server (aiosmtpd). Both are started by the suite on loopback ports.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest

from heygen_provider.exceptions import HeyGenDownloadError
from heygen_provider.hooks.heygen import HeyGenHook
from tests.fixtures.scenes import emulator_scene
from tests.integration.conftest import task_states
from tests.integration.services import S3Server, SmtpServer, html_text

BUCKET = "campaign-videos"
AWS_CONN_ID = "campaign_s3"
SMTP_CONN_ID = "campaign_smtp"
REGIONS = ("north", "south", "east", "west")


@pytest.fixture
def bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    client = s3_server.client()
    if BUCKET not in [item["Name"] for item in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket=BUCKET)
    for key in s3_server.objects(BUCKET):
        client.delete_object(Bucket=BUCKET, Key=key)
    for name, value in s3_server.connection(AWS_CONN_ID).items():
        monkeypatch.setenv(name, value)
    return BUCKET


def test_videos_are_stored_in_s3_and_the_summary_is_mailed(
    run_dag: Any,
    emulator: Any,
    s3_server: S3Server,
    bucket: str,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in smtp_server.connection(SMTP_CONN_ID).items():
        monkeypatch.setenv(name, value)

    dag_run = run_dag(
        "heygen_data_to_video",
        output_uri=f"s3://{bucket}/weekly",
        output_conn_id=AWS_CONN_ID,
        notify_to="managers@example.com",
        smtp_conn_id=SMTP_CONN_ID,
    )

    assert str(dag_run.state) == "success", task_states(dag_run)
    objects = s3_server.objects(bucket)
    [(day, run)] = {tuple(key.split("/")[1:3]) for key in objects}
    folder = f"weekly/{day}/{run}"
    for region in REGIONS:
        # The emulator's MP4s have a known size; thumbnails and captions are stored beside them.
        assert objects[f"{folder}/{region}.mp4"] > 1000, objects
        assert objects[f"{folder}/{region}.jpg"] > 0
    assert objects[f"{folder}/summary.html"] > 0
    assert not [key for key in objects if key.endswith(".part")], "no temporary objects left"
    body = s3_server.client().get_object(Bucket=bucket, Key=f"{folder}/north.mp4")["Body"].read()
    assert body[4:8] == b"ftyp" and len(body) == objects[f"{folder}/north.mp4"]

    [message] = smtp_server.messages
    assert message["Subject"] == f"Weekly videos {day}"
    assert message["To"] == "managers@example.com"
    text = html_text(message)
    assert "4 videos: 4 ready" in text.splitlines()
    for video in emulator.videos():
        line = next(line for line in text.splitlines() if line.startswith(f"- {video['title']}: success"))
        region = video["title"].split(": ")[1].lower()
        assert f"s3://{bucket}/{folder}/{region}.mp4" in line
        assert f"{emulator.base_url}/videos/{video['video_id']}" in line
    assert f'href="s3://{bucket}/{folder}/summary.html"' in text


def test_an_interrupted_upload_leaves_no_object(
    heygen_connection: Any, heygen_emulator: Any, s3_server: S3Server, bucket: str
) -> None:
    from airflow.sdk import ObjectStoragePath

    hook = HeyGenHook()
    created = hook.create_video(
        {
            "video_inputs": [emulator_scene("Hi")],
            "title": "emulator:size=12MB",
        }
    )
    status = hook.get_video_status(created.video_id)
    heygen_emulator.add_fault("reset", method="GET", path="/media/videos/*", count=None)
    target = ObjectStoragePath(f"s3://{bucket}/interrupted/video.mp4", conn_id=AWS_CONN_ID)

    with pytest.raises(HeyGenDownloadError):
        hook.download_media(str(status.video_url), target)

    assert s3_server.objects(bucket) == {}


class CutTransfer:
    """A media host on loopback that promises ``size`` bytes, sends ``sent`` of them and hangs up."""

    def __init__(self, size: int, sent: int) -> None:
        self.size, self.sent = size, sent
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.requests = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/media/videos/cut.mp4"

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with client:
                client.recv(65536)
                self.requests += 1
                head = f"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: {self.size}\r\n\r\n"
                client.sendall(head.encode() + b"\0" * self.sent)

    def close(self) -> None:
        self.listener.close()


def test_a_transfer_cut_mid_body_leaves_no_object_once_its_bytes_reached_s3(
    heygen_connection: Any, bucket: str, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk import ObjectStoragePath

    host = CutTransfer(size=12_000_000, sent=3_000_000)
    seen_before_removal: list[dict[str, int]] = []
    unlink = ObjectStoragePath.unlink

    def watched_unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        seen_before_removal.append(s3_server.objects(bucket))
        unlink(path, *args, **kwargs)

    monkeypatch.setattr(ObjectStoragePath, "unlink", watched_unlink)
    target = ObjectStoragePath(f"s3://{bucket}/cut/video.mp4", conn_id=AWS_CONN_ID)
    try:
        with pytest.raises(HeyGenDownloadError, match="3000000 bytes read, 9000000 more expected"):
            HeyGenHook().download_media(host.url, target)
    finally:
        host.close()

    assert host.requests >= 1
    # Each try's bytes reached the bucket under a temporary name, and that object was removed.
    assert seen_before_removal, "the partial object was never removed"
    for listing in seen_before_removal:
        [partial] = [size for key, size in listing.items() if key.startswith("cut/.video.mp4.")]
        assert 0 < partial <= 3_000_000  # whole chunks, up to the cut
        assert "cut/video.mp4" not in listing
    assert s3_server.objects(bucket) == {}
    assert s3_server.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
