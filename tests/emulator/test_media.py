"""Media of completed videos: real files, signed URLs that expire, large padded downloads."""

from __future__ import annotations

import struct
from typing import Any

import httpx
import pytest

from heygen_provider.testing.emulator import HeyGenEmulator
from heygen_provider.testing.emulator.media import VirtualFile, padded_mp4

from .helpers import VALID_BODY, create_video, status_of

MEBIBYTE = 1024 * 1024


def top_level_boxes(data: bytes) -> list[tuple[str, int]]:
    """The (type, size) of each top-level ISO-BMFF box; they must tile the file exactly."""
    boxes, offset = [], 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        assert size >= 8, f"box {kind!r} at {offset} has size {size}"
        boxes.append((kind.decode("latin-1"), size))
        offset += size
    assert offset == len(data), "boxes overrun the file"
    return boxes


def completed_status(heygen_emulator: HeyGenEmulator, api: httpx.Client, **top_level: Any) -> dict[str, Any]:
    data = status_of(api, create_video(api, **top_level))
    assert data["status"] == "completed"
    return data


def test_video_is_a_real_mp4(heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client) -> None:
    answer = anonymous.get(completed_status(heygen_emulator, api)["video_url"])
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "video/mp4"
    data = answer.content
    assert data[4:8] == b"ftyp"
    boxes = [kind for kind, _ in top_level_boxes(data)]
    assert boxes[0] == "ftyp" and "moov" in boxes and "mdat" in boxes
    # Fast start (moov before mdat) lets players begin before the download ends.
    assert boxes.index("moov") < boxes.index("mdat")
    for marker in (b"mvhd", b"trak", b"avc1", b"mp4a", b"stts"):
        assert marker in data


def test_thumbnail_is_a_jpeg_and_gif_is_a_gif(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    data = completed_status(heygen_emulator, api)
    thumbnail = anonymous.get(data["thumbnail_url"])
    assert thumbnail.headers["Content-Type"] == "image/jpeg"
    assert thumbnail.content[:2] == b"\xff\xd8" and thumbnail.content[-2:] == b"\xff\xd9"
    start_of_frame = thumbnail.content.index(b"\xff\xc0")
    height, width = struct.unpack(">HH", thumbnail.content[start_of_frame + 5 : start_of_frame + 9])
    assert (width, height) == (640, 360)
    gif = anonymous.get(data["gif_url"])
    assert gif.headers["Content-Type"] == "image/gif"
    assert gif.content[:6] == b"GIF89a" and gif.content[-1:] == b";"


def test_captions_follow_the_script(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    data = completed_status(heygen_emulator, api, caption=True)
    srt = anonymous.get(data["caption_url"]).text
    assert srt.startswith("1\n00:00:00,000 --> 00:00:")
    script = VALID_BODY["video_inputs"][0]["voice"]["input_text"]
    spoken = " ".join(line for line in srt.splitlines() if line and not line[0].isdigit())
    assert spoken == script
    captioned = anonymous.get(data["video_url_caption"])
    assert captioned.content[4:8] == b"ftyp"

    # v3's subtitle_url is "the SRT subtitle file" (HeyGen's VideoGet schema).
    v3 = api.get(f"/v3/videos/{data['id']}").json()["data"]
    subtitles = anonymous.get(v3["subtitle_url"])
    assert subtitles.headers["Content-Type"] == "application/x-subrip"
    assert subtitles.text == srt


def test_each_status_call_signs_afresh(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    video_id = create_video(api)
    first = status_of(api, video_id)["video_url"]
    heygen_emulator.advance_time(5)
    second = status_of(api, video_id)["video_url"]
    assert first != second
    assert first.split("?")[0] == second.split("?")[0]
    assert anonymous.get(first).status_code == anonymous.get(second).status_code == 200


def test_expired_urls_are_refused_like_s3(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    heygen_emulator.update_settings(url_lifetime_seconds=60)
    video_id = create_video(api)
    old_url = status_of(api, video_id)["video_url"]
    heygen_emulator.advance_time(61)
    refused = anonymous.get(old_url)
    assert refused.status_code == 403
    assert refused.headers["Content-Type"] == "application/xml"
    assert "<Code>AccessDenied</Code><Message>Request has expired</Message>" in refused.text
    # The status endpoint hands out a fresh, working URL.
    assert anonymous.get(status_of(api, video_id)["video_url"]).status_code == 200


def test_default_lifetime_is_seven_days(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    url = status_of(api, create_video(api))["video_url"]
    heygen_emulator.advance_time(7 * 24 * 3600 - 60)
    assert anonymous.get(url).status_code == 200
    heygen_emulator.advance_time(120)
    assert anonymous.get(url).status_code == 403


def test_tampered_signatures_are_refused(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    data = completed_status(heygen_emulator, api)
    video_path = data["video_url"].partition("?")[0]
    thumbnail_query = data["thumbnail_url"].partition("?")[2]
    for url in (f"{video_path}?{thumbnail_query}", video_path, data["video_url"].replace("Expires=", "Expires=9")):
        refused = anonymous.get(url)
        assert refused.status_code == 403
        assert "<Code>SignatureDoesNotMatch</Code>" in refused.text


def test_media_of_an_unfinished_video_does_not_exist(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    heygen_emulator.update_settings(render_seconds=600)
    video_id = create_video(api)
    assert heygen_emulator.app is not None
    path = f"/media/videos/{video_id}.mp4"
    signed = heygen_emulator.app.signer.sign(path, expires=2**40)
    answer = anonymous.get(signed)
    assert answer.status_code == 404 and "<Code>NoSuchKey</Code>" in answer.text


def test_large_video_is_streamed_with_an_exact_length(
    api: httpx.Client, anonymous: httpx.Client, heygen_emulator: HeyGenEmulator
) -> None:
    data = completed_status(heygen_emulator, api, title="Board pack emulator:size=3MB")
    with anonymous.stream("GET", data["video_url"]) as answer:
        assert int(answer.headers["Content-Length"]) == 3 * MEBIBYTE
        body = b"".join(answer.iter_bytes())
    assert len(body) == 3 * MEBIBYTE
    boxes = top_level_boxes(body)
    assert boxes[0][0] == "ftyp" and boxes[-1][0] == "free"
    assert "moov" in [kind for kind, _ in boxes]


def test_video_size_setting_applies_to_every_video(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    heygen_emulator.update_settings(video_size_bytes=MEBIBYTE)
    head = anonymous.head(completed_status(heygen_emulator, api)["video_url"])
    assert head.status_code == 200
    assert int(head.headers["Content-Length"]) == MEBIBYTE and head.content == b""


def test_range_requests(heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client) -> None:
    url = completed_status(heygen_emulator, api, title="emulator:size=2MB")["video_url"]
    whole = anonymous.get(url).content
    first = anonymous.get(url, headers={"Range": "bytes=0-99"})
    assert first.status_code == 206
    assert first.headers["Content-Range"] == f"bytes 0-99/{2 * MEBIBYTE}"
    assert first.content == whole[:100]
    middle = anonymous.get(url, headers={"Range": f"bytes={MEBIBYTE}-"})
    assert middle.content == whole[MEBIBYTE:]
    tail = anonymous.get(url, headers={"Range": "bytes=-10"})
    assert tail.content == whole[-10:] == bytes(10)
    beyond = anonymous.get(url, headers={"Range": f"bytes={2 * MEBIBYTE}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{2 * MEBIBYTE}"


def test_padding_beyond_four_gibibytes_uses_a_64_bit_box() -> None:
    size = 5 * 1024**3
    file = padded_mp4(size)
    assert file.length == size
    header_start = len(padded_mp4(None).head)
    size_field, kind, large_size = struct.unpack(">I4sQ", file.head[header_start : header_start + 16])
    assert (size_field, kind, large_size) == (1, b"free", size - header_start)


def test_virtual_file_chunks_cover_any_range() -> None:
    file = VirtualFile(b"abcdef", padding=10)
    assert b"".join(file.chunks(0, 16)) == b"abcdef" + bytes(10)
    assert b"".join(file.chunks(4, 9)) == b"ef\x00\x00\x00"


def test_media_needs_no_key_but_the_log_shows_one_sent(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    data = completed_status(heygen_emulator, api)
    anonymous.get(data["thumbnail_url"])
    api.get(data["video_url"])  # a client that leaks its API key to the media host
    thumbnail, video = heygen_emulator.requests(method="GET")[-2:]
    assert (thumbnail.authenticated, thumbnail.credential) == (None, None)
    assert (video.authenticated, video.credential, video.video_id) == (None, "x-api-key", data["id"])


@pytest.mark.parametrize("path", ["/media/static/thumbnail.jpg", "/media/static/sample.mp4"])
def test_catalogue_previews_are_served(anonymous: httpx.Client, path: str) -> None:
    answer = anonymous.get(path)
    assert answer.status_code == 200 and len(answer.content) > 1000
