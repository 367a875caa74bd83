"""v3 assets: multipart uploads of at most 32 MB, and direct uploads streamed to disk through a signed URL."""

from __future__ import annotations

import hashlib
import socket
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from heygen_provider.testing.emulator import HeyGenEmulator
from heygen_provider.testing.emulator.media import asset
from heygen_provider.testing.emulator.schema import response_problems

from .helpers import V3_VIDEOS, v3_body, v3_error

MEBIBYTE = 1024 * 1024
ASSETS = "/v3/assets"
DIRECT = "/v3/assets/direct-uploads"
SAMPLES: dict[str, tuple[bytes, str]] = {
    "png": (b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png"),
    "jpeg": (asset("thumbnail.jpg"), "image/jpeg"),
    "mp4": (asset("sample.mp4"), "video/mp4"),
    "webm": (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + bytes(100), "video/webm"),
    "mp3": (b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(100), "audio/mpeg"),
    "wav": (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(100), "audio/wav"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "application/pdf"),
    "srt": (b"1\n00:00:00,000 --> 00:00:01,500\nHello there\n", "application/x-subrip"),
}


def upload(
    api: httpx.Client, data: bytes, name: str = "file.bin", declared: str = "application/octet-stream"
) -> httpx.Response:
    return api.post(ASSETS, files={"file": (name, data, declared)})


@pytest.mark.parametrize(("data", "mime_type"), list(SAMPLES.values()), ids=list(SAMPLES))
def test_each_supported_type_is_recognised_by_its_bytes(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client, data: bytes, mime_type: str
) -> None:
    # The declared type is ignored: the bytes decide.
    answer = upload(api, data)
    assert answer.status_code == 200, answer.text
    payload = answer.json()
    assert response_problems("AssetCreate", payload) == []
    created = payload["data"]
    assert set(created) == {"asset_id", "url", "mime_type", "size_bytes"}
    assert (created["mime_type"], created["size_bytes"]) == (mime_type, len(data))
    served = anonymous.get(created["url"])
    assert (served.status_code, served.content, served.headers["Content-Type"]) == (200, data, mime_type)
    [listed] = heygen_emulator.assets()
    assert (listed["asset_id"], listed["source"], listed["status"]) == (created["asset_id"], "upload", "completed")
    assert listed["sha256"] == hashlib.sha256(data).hexdigest()


def test_unsupported_types_and_missing_files_are_refused(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    error = v3_error(upload(api, asset("preview.gif"), "preview.gif", "image/gif"), 400)
    assert (error["code"], error["param"]) == ("invalid_parameter", "file")
    assert v3_error(api.post(ASSETS, files={"document": ("a.pdf", SAMPLES["pdf"][0])}), 400)["param"] == "file"
    assert v3_error(api.post(ASSETS, json={"file": "inline"}), 400)["param"] == "file"
    assert heygen_emulator.assets() == []


def test_32_mb_is_the_limit(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    png = SAMPLES["png"][0]
    largest = png + bytes(32 * MEBIBYTE - len(png))
    assert upload(api, largest).json()["data"]["size_bytes"] == 32 * MEBIBYTE
    error = v3_error(upload(api, largest + b"\x00"), 413)
    assert (error["code"], error["param"]) == ("payload_too_large", "file")
    assert "direct-uploads" in error["message"]
    assert [listed["size_bytes"] for listed in heygen_emulator.assets()] == [32 * MEBIBYTE]


# Direct uploads -----------------------------------------------------------------------------------


def reserve(api: httpx.Client, size: int, content_type: str = "video/mp4", **extra: Any) -> dict[str, Any]:
    answer = api.post(DIRECT, json={"filename": "talk.mp4", "content_type": content_type, "size_bytes": size, **extra})
    assert answer.status_code == 200, answer.text
    assert response_problems("AssetDirectUploadsCreate", answer.json()) == []
    data: dict[str, Any] = answer.json()["data"]
    return data


def chunks_of(head: bytes, size: int, chunk: int = MEBIBYTE) -> Iterator[bytes]:
    yield head
    sent = len(head)
    while sent < size:
        piece = min(chunk, size - sent)
        yield bytes(piece)
        sent += piece


def test_a_direct_upload_streams_to_disk_without_an_api_key(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    head = asset("sample.mp4")
    size = 48 * MEBIBYTE  # more than the transport would ever hold in memory
    reserved = reserve(api, size)
    assert reserved["status"] == "pending_upload"
    assert (reserved["max_bytes"], reserved["expires_in_seconds"]) == (size, 3600)
    assert reserved["upload_headers"] == {"Content-Type": "video/mp4"}
    upload_url = reserved["upload_url"]
    assert upload_url.startswith(f"{heygen_emulator.base_url}/_uploads/{reserved['asset_id']}?")

    tracemalloc.start()
    try:
        answer = anonymous.put(
            upload_url,
            content=chunks_of(head, size),
            headers={**reserved["upload_headers"], "Content-Length": str(size)},
            timeout=60,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status_code == 200, answer.text
    assert peak < 16 * MEBIBYTE  # client and emulator together: the 48 MiB never sat in memory
    digest = hashlib.sha256(b"".join(chunks_of(head, size)))
    assert answer.headers["ETag"].startswith('"')

    [put] = heygen_emulator.requests(method="PUT")
    assert (put.status, put.authenticated, put.credential, put.key_fingerprint) == (200, None, None, None)
    [listed] = heygen_emulator.assets()
    assert (listed["status"], listed["size_bytes"], listed["upload_credential"]) == ("uploaded", size, None)
    assert listed["sha256"] == digest.hexdigest()

    completed = api.post(f"{ASSETS}/{reserved['asset_id']}/complete", json={"checksum_sha256": digest.hexdigest()})
    assert completed.status_code == 200, completed.text
    assert response_problems("AssetCompleteCreate", completed.json()) == []
    data = completed.json()["data"]
    assert (data["status"], data["mime_type"], data["size_bytes"]) == ("completed", "video/mp4", size)
    # Idempotent: completing again answers the same asset.
    assert api.post(f"{ASSETS}/{reserved['asset_id']}/complete").json()["data"] == data
    served = anonymous.get(data["url"], headers={"Range": "bytes=0-7"})
    assert (served.status_code, served.content) == (206, head[:8])


def test_the_log_shows_an_api_key_sent_to_the_upload_url(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    reserved = reserve(api, len(SAMPLES["mp4"][0]))
    answer = api.put(reserved["upload_url"], content=SAMPLES["mp4"][0], headers={"Content-Type": "video/mp4"})
    assert answer.status_code == 200
    [put] = heygen_emulator.requests(method="PUT")
    assert (put.credential, put.authenticated) == ("x-api-key", None)
    assert heygen_emulator.assets()[0]["upload_credential"] == "x-api-key"


def _tampered(url: str) -> str:
    return url.replace("Signature=", "Signature=x")


def test_upload_url_refusals_are_s3s(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    data = SAMPLES["png"][0]
    reserved = reserve(api, len(data), "image/png")
    url, headers = reserved["upload_url"], reserved["upload_headers"]

    def code(answer: httpx.Response) -> tuple[int, str]:
        assert answer.headers["Content-Type"] == "application/xml"
        return answer.status_code, answer.text.split("<Code>")[1].split("</Code>")[0]

    assert code(anonymous.put(_tampered(url), content=data, headers=headers)) == (403, "SignatureDoesNotMatch")
    assert code(anonymous.put(url, content=data, headers={"Content-Type": "image/jpeg"})) == (
        403,
        "SignatureDoesNotMatch",
    )
    assert code(anonymous.put(url, content=data + b"!", headers=headers)) == (400, "EntityTooLarge")
    assert code(anonymous.put(url, content=data[:-1], headers=headers)) == (400, "IncompleteBody")
    # A chunked body has no length to check in advance: the bytes are counted as they come.
    assert code(anonymous.put(url, content=iter([data, b"more"]), headers=headers)) == (400, "EntityTooLarge")
    assert code(anonymous.get(url)) == (405, "MethodNotAllowed")
    missing = url.replace(reserved["asset_id"], "0" * 32)
    assert code(anonymous.put(missing, content=data, headers=headers))[0] == 403  # signed for another path
    assert heygen_emulator.assets()[0]["status"] == "pending_upload"
    heygen_emulator.advance_time(3601)
    assert code(anonymous.put(url, content=data, headers=headers)) == (403, "AccessDenied")


def test_a_declared_checksum_is_enforced_on_upload(api: httpx.Client, anonymous: httpx.Client) -> None:
    data = SAMPLES["pdf"][0]
    reserved = reserve(api, len(data), "application/pdf", checksum_sha256="ab" * 32)
    answer = anonymous.put(reserved["upload_url"], content=data, headers=reserved["upload_headers"])
    assert answer.status_code == 400 and "<Code>BadDigest</Code>" in answer.text


def test_complete_checks_what_was_uploaded(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    pdf = SAMPLES["pdf"][0]
    reserved = reserve(api, len(pdf), "image/png")
    complete = f"{ASSETS}/{reserved['asset_id']}/complete"
    error = v3_error(api.post(complete), 400)
    assert (error["param"], "nothing was uploaded" in error["message"]) == ("asset_id", True)
    assert anonymous.put(reserved["upload_url"], content=pdf, headers=reserved["upload_headers"]).status_code == 200
    error = v3_error(api.post(complete), 400)
    assert error["param"] == "content_type" and "application/pdf" in error["message"]
    assert v3_error(api.post(complete, json={"checksum_sha256": "0" * 64}), 400)["param"] == "checksum_sha256"
    assert v3_error(api.post(f"{ASSETS}/{'0' * 32}/complete"), 404)["code"] == "asset_not_found"


@pytest.mark.parametrize(
    ("reservation", "param"),
    [
        ({"content_type": "video/mp4", "size_bytes": 10}, "filename"),
        ({"filename": "a.zip", "content_type": "application/zip", "size_bytes": 10}, "content_type"),
        ({"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 0}, "size_bytes"),
        ({"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 6 * 1024**3}, "size_bytes"),
        ({"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": "10"}, "size_bytes"),
        (
            {"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 10, "checksum_sha256": "xyz"},
            "checksum_sha256",
        ),
    ],
)
def test_direct_upload_reservations_are_validated(api: httpx.Client, reservation: dict[str, Any], param: str) -> None:
    assert v3_error(api.post(DIRECT, json=reservation), 400)["param"] == param


def test_faults_apply_to_the_upload_url_before_the_body_is_read(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    data = SAMPLES["mp4"][0]
    reserved = reserve(api, len(data))
    heygen_emulator.add_fault("service_unavailable", method="PUT", path="/_uploads/*")
    assert anonymous.put(reserved["upload_url"], content=data, headers=reserved["upload_headers"]).status_code == 503
    assert anonymous.put(reserved["upload_url"], content=data, headers=reserved["upload_headers"]).status_code == 200
    assert [(entry.status, entry.fault) for entry in heygen_emulator.requests(method="PUT")] == [
        (503, "service_unavailable"),
        (200, None),
    ]


def test_a_client_that_leaves_mid_upload_stores_nothing(heygen_emulator: HeyGenEmulator, api: httpx.Client) -> None:
    reserved = reserve(api, 1000)
    target = urlsplit(reserved["upload_url"])
    head = (
        f"PUT {target.path}?{target.query} HTTP/1.1\r\nHost: x\r\nContent-Type: video/mp4\r\n"
        "Content-Length: 1000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", heygen_emulator.port), timeout=5) as connection:
        connection.sendall(head.encode() + bytes(10))
    deadline = time.monotonic() + 5
    while not heygen_emulator.requests(method="PUT") and time.monotonic() < deadline:
        time.sleep(0.02)
    [put] = heygen_emulator.requests(method="PUT")
    assert put.status is None
    assert heygen_emulator.assets()[0]["status"] == "pending_upload"


def test_strict_catalogue_accepts_only_completed_assets_of_the_right_kind(
    heygen_emulator: HeyGenEmulator, api: httpx.Client
) -> None:
    heygen_emulator.update_settings(strict_catalogue=True)
    image = upload(api, SAMPLES["png"][0]).json()["data"]["asset_id"]
    audio = upload(api, SAMPLES["mp3"][0]).json()["data"]["asset_id"]
    photo = {"type": "image", "image": {"type": "asset_id", "asset_id": image}, "audio_asset_id": audio}
    assert api.post(V3_VIDEOS, json=photo).status_code == 200
    swapped = {**photo, "audio_asset_id": image}
    assert v3_error(api.post(V3_VIDEOS, json=swapped), 400)["param"] == "audio_asset_id"
    background = v3_body(background={"type": "image", "asset_id": audio})
    assert v3_error(api.post(V3_VIDEOS, json=background), 400)["param"] == "background.asset_id"
