"""Each finished video's media are drawn from its request: its length, its title and script, its look."""

from __future__ import annotations

import base64
import io
import logging
import threading
from typing import Any

import av
import httpx
import pytest
from PIL import Image, ImageChops, ImageStat

from heygen_provider.testing.emulator import HeyGenEmulator, drawing

from .helpers import V3_VIDEOS, create_v3, create_video, status_of, v3_video

#: Where the frame shows the title (a band across the top), and the script (the box on the right).
TITLE_BAND = (0, 0, drawing.WIDTH, drawing.PORTRAIT_BOX[1] - 8)
SCRIPT_AREA = drawing.SCRIPT_BOX
PORTRAIT_AREA = drawing.PORTRAIT_BOX


def first_frame(mp4: bytes) -> Image.Image:
    with av.open(io.BytesIO(mp4)) as container:
        frame = next(container.decode(video=0))
        return frame.to_image().convert("RGB")


def difference(first: Image.Image, second: Image.Image, box: tuple[int, int, int, int] | None = None) -> float:
    """The mean per-channel difference of two pictures (0 to 255), over ``box`` when given."""
    if box is not None:
        first, second = first.crop(box), second.crop(box)
    return sum(ImageStat.Stat(ImageChops.difference(first, second)).mean) / 3


def mean_colour(picture: Image.Image, box: tuple[int, int, int, int]) -> tuple[float, ...]:
    return tuple(ImageStat.Stat(picture.crop(box)).mean)


def completed_media(api: httpx.Client, anonymous: httpx.Client, video_id: str) -> dict[str, bytes]:
    data = v3_video(api, video_id)
    assert data["status"] == "completed"
    return {key: anonymous.get(data[f"{key}_url"]).content for key in ("video", "thumbnail", "gif")} | {
        "duration": data["duration"]
    }


@pytest.mark.parametrize("script_words", [3, 40, 160])
def test_each_video_lasts_the_duration_the_emulator_reports(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client, script_words: int
) -> None:
    script = " ".join(["revenue"] * script_words)
    data = status_of(api, create_video(api, title=f"{script_words} words"))
    assert data["duration"] == 5.0  # VALID_BODY's script; the legacy path is checked too
    for video_id in (create_v3(api, script=script), data["id"]):
        reported = v3_video(api, video_id)["duration"]
        mp4 = anonymous.get(v3_video(api, video_id)["video_url"]).content
        with av.open(io.BytesIO(mp4)) as container:
            assert container.duration / 1_000_000 == pytest.approx(reported, abs=0.001)
            for stream in container.streams:
                assert float(stream.duration * stream.time_base) == pytest.approx(reported, abs=0.001)
            assert {stream.type for stream in container.streams} == {"video", "audio"}


def test_two_rows_show_their_own_title_and_script(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    north = first_frame(completed_media(api, anonymous, create_v3(api, title="Weekly figures: North"))["video"])
    south = first_frame(completed_media(api, anonymous, create_v3(api, title="Weekly figures: South"))["video"])
    other_script = first_frame(
        completed_media(api, anonymous, create_v3(api, title="Weekly figures: North", script="Sales fell by 3%."))[
            "video"
        ]
    )
    # Another title changes the title band and nothing else; another script changes the script box only.
    assert difference(north, south, TITLE_BAND) > 1
    assert difference(north, south, SCRIPT_AREA) < 0.5
    assert difference(north, other_script, SCRIPT_AREA) > 1
    assert difference(north, other_script, TITLE_BAND) < 0.5
    # The frame is a picture, not a blank: text stands out from its background.
    assert ImageStat.Stat(north.crop(SCRIPT_AREA).convert("L")).stddev[0] > 10


def test_thumbnail_and_gif_show_the_videos_frame(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    north = completed_media(api, anonymous, create_v3(api, title="Weekly figures: North"))
    south = completed_media(api, anonymous, create_v3(api, title="Weekly figures: South", script="Other words."))
    frame = first_frame(north["video"])
    thumbnail = Image.open(io.BytesIO(north["thumbnail"])).convert("RGB")
    assert thumbnail.size == frame.size == (drawing.WIDTH, drawing.HEIGHT)
    other_thumbnail = Image.open(io.BytesIO(south["thumbnail"])).convert("RGB")
    # Compression leaves small differences; another video's thumbnail differs far more where the text is.
    assert difference(frame, thumbnail) < 3
    assert difference(frame, thumbnail, SCRIPT_AREA) < difference(frame, other_thumbnail, SCRIPT_AREA) / 2
    gif = Image.open(io.BytesIO(north["gif"]))
    assert north["gif"][:6] == b"GIF89a" and gif.info.get("loop") == 0
    small = frame.resize(gif.size)
    assert difference(small, gif.convert("RGB")) < difference(small, other_thumbnail.resize(gif.size)) / 2


def test_the_background_colour_of_the_request_fills_the_frame(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    red = create_v3(api, background={"type": "color", "value": "#d01010"})
    legacy_green = create_video(
        api,
        video_inputs=[
            {
                "character": {"type": "avatar", "avatar_id": "Daisy-inskirt-20220818"},
                "voice": {"type": "text", "voice_id": "2d5b0e6cf36f460aa7fc47e3eee4ba54", "input_text": "Hello"},
                "background": {"type": "color", "value": "#10c010"},
            }
        ],
    )
    corner = (0, drawing.HEIGHT - 12, 12, drawing.HEIGHT)
    red_corner = mean_colour(first_frame(completed_media(api, anonymous, red)["video"]), corner)
    green_corner = mean_colour(first_frame(completed_media(api, anonymous, legacy_green)["video"]), corner)
    assert red_corner == pytest.approx((0xD0, 0x10, 0x10), abs=12)
    assert green_corner == pytest.approx((0x10, 0xC0, 0x10), abs=12)


def solid_png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 400), colour).save(out, format="PNG")
    return out.getvalue()


def test_a_photo_video_shows_its_uploaded_photo(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    photo = solid_png((240, 160, 20))
    upload = api.post("/v3/assets", files={"file": ("row.png", photo, "image/png")})
    assert upload.status_code == 200, upload.text
    asset = upload.json()["data"]
    image_body = {"type": "image", "avatar_id": None, "image": {"type": "asset_id", "asset_id": asset["asset_id"]}}
    by_asset = create_v3(api, **image_body)
    by_own_url = create_v3(api, **(image_body | {"image": {"type": "url", "url": asset["url"]}}))
    by_foreign_url = create_v3(api, **(image_body | {"image": {"type": "url", "url": "https://example.com/a.png"}}))
    inline = {"type": "base64", "media_type": "image/png", "data": base64.b64encode(photo).decode()}
    by_data = create_v3(api, **(image_body | {"image": inline}))
    inside = (PORTRAIT_AREA[0] + 20, PORTRAIT_AREA[1] + 20, PORTRAIT_AREA[2] - 20, PORTRAIT_AREA[3] - 20)
    for video_id in (by_asset, by_own_url, by_data):
        frame = first_frame(completed_media(api, anonymous, video_id)["video"])
        assert mean_colour(frame, inside) == pytest.approx((240, 160, 20), abs=10)
    # A photo the emulator cannot fetch (it reaches no other host) gets the drawn placeholder.
    placeholder = first_frame(completed_media(api, anonymous, by_foreign_url)["video"])
    assert mean_colour(placeholder, inside) != pytest.approx((240, 160, 20), abs=40)


def test_a_video_is_drawn_once_off_the_event_loop(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = v3_video(api, create_v3(api))
    drawing_started, may_finish = threading.Event(), threading.Event()
    calls: list[str] = []
    real_draw = drawing.draw_media

    def slow_draw(request: Any, photo: bytes | None) -> drawing.DrawnMedia:
        calls.append(request.title)
        drawing_started.set()
        assert may_finish.wait(10)
        return real_draw(request, photo)

    monkeypatch.setattr(drawing, "draw_media", slow_draw)
    fetched: dict[str, httpx.Response] = {}
    fetch = threading.Thread(target=lambda: fetched.update(video=anonymous.get(data["video_url"])))
    fetch.start()
    try:
        assert drawing_started.wait(10)
        # While the video is being drawn, the emulator answers other requests.
        with httpx.Client(base_url=heygen_emulator.base_url, trust_env=False, timeout=5) as other:
            assert other.get(f"{V3_VIDEOS}/{data['id']}", headers={"X-Api-Key": heygen_emulator.api_key}).is_success
    finally:
        may_finish.set()
        fetch.join(10)
    assert fetched["video"].status_code == 200 and fetched["video"].content[4:8] == b"ftyp"
    thumbnail = anonymous.get(data["thumbnail_url"])
    gif = anonymous.get(data["gif_url"])
    assert thumbnail.status_code == gif.status_code == 200
    assert calls == [None]  # one drawing for the video, its thumbnail and its GIF
    # The request log shows the status each answer had.
    assert [entry.status for entry in heygen_emulator.requests(method="GET")[-3:]] == [200, 200, 200]


def test_without_the_extra_every_video_is_the_sample_and_says_so(
    heygen_emulator: HeyGenEmulator,
    api: httpx.Client,
    anonymous: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(drawing, "missing_extra", lambda: "av is not installed")
    caplog.set_level(logging.WARNING, logger=drawing.__name__)
    first = v3_video(api, create_v3(api, title="One"))
    second = v3_video(api, create_v3(api, title="Two"))
    answers = [anonymous.get(data["video_url"]) for data in (first, second)]
    assert answers[0].content == answers[1].content == drawing.sample_media().mp4
    for answer in answers:
        assert drawing.EXTRA in answer.headers[drawing.SAMPLE_HEADER]
    warnings = [record.getMessage() for record in caplog.records if record.name == drawing.__name__]
    assert len(warnings) == 1 and "av is not installed" in warnings[0] and drawing.EXTRA in warnings[0]


def test_large_padded_videos_are_the_drawn_video_then_padding(
    heygen_emulator: HeyGenEmulator, api: httpx.Client, anonymous: httpx.Client
) -> None:
    plain = v3_video(api, create_v3(api, title="Board pack"))
    padded = v3_video(api, create_v3(api, title="Board pack emulator:size=2MB"))
    body = anonymous.get(padded["video_url"]).content
    assert len(body) == 2 * 1024 * 1024
    with av.open(io.BytesIO(body)) as container:
        assert container.duration / 1_000_000 == pytest.approx(padded["duration"], abs=0.001)
    assert difference(first_frame(body), first_frame(anonymous.get(plain["video_url"]).content), SCRIPT_AREA) < 0.5


def test_the_provider_and_the_emulator_import_without_the_extra() -> None:
    import subprocess
    import sys

    # A module set to None in sys.modules fails to import, as if the extra were not installed.
    code = (
        "import sys; sys.modules['av'] = sys.modules['PIL'] = None\n"
        "import heygen_provider.operators.download, heygen_provider.operators.render, heygen_provider.hooks.heygen\n"
        "import heygen_provider.triggers.heygen, heygen_provider.testing.emulator.server\n"
        "from heygen_provider.testing.emulator import drawing\n"
        "print(drawing.missing_extra())\n"
    )
    finished = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip().splitlines()[-1] == "av is not installed"
