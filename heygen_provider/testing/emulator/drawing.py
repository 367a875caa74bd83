"""The media of each finished video, drawn from its request so that it looks like what it stands for.

One still frame shows the video's title and script over its avatar (a drawn figure) or the photo it
animates, on the background colour it asked for. The MP4 holds that frame (one every
:data:`SECONDS_PER_FRAME`, so that players can seek) and silent audio, and lasts exactly the duration the
emulator reports; the JPEG thumbnail and the GIF preview are the same frame.

Pillow draws and PyAV (FFmpeg's libraries, shipped in its wheels) encodes: both come with the
``emulator`` extra (``pip install 'airflow-provider-heygen[emulator]'``), which the provider itself never
needs. Without them every video is the committed 2-second sample (``assets/``): the emulator logs why
once and marks each such answer with the :data:`SAMPLE_HEADER` header.

Drawing takes tens of milliseconds per video, so the emulator draws a video's media when they are first
fetched, in a worker thread, and keeps them in a :class:`DrawnMediaCache`.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import logging
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heygen_provider.testing.emulator.media import asset
from heygen_provider.testing.emulator.validation import RenderRequest, VideoLook

if TYPE_CHECKING:
    from PIL import Image as PillowImage

log = logging.getLogger(__name__)

#: The extra that brings Pillow and PyAV.
EXTRA = "airflow-provider-heygen[emulator]"
#: The header on media answers that are the committed sample because the extra is missing.
SAMPLE_HEADER = "X-Emulator-Media"
WIDTH, HEIGHT = 640, 360
#: A still picture needs few frames: one every two seconds keeps seeking exact enough and encoding quick.
SECONDS_PER_FRAME = 2
MILLISECONDS = Fraction(1, 1000)
AUDIO_RATE = 16_000
#: Samples per AAC frame; the encoder takes exactly this many, but for the last frame.
AAC_FRAME_SAMPLES = 1024
DEFAULT_BACKGROUND = "#2f3b52"
GIF_SIZE = (320, 180)
MARGIN = 24
PORTRAIT_BOX = (MARGIN, 72, 232, HEIGHT - MARGIN)
SCRIPT_BOX = (256, 72, WIDTH - MARGIN, HEIGHT - MARGIN)
TITLE_SIZE, SCRIPT_SIZE, LABEL_SIZE = 28, 18, 13
ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class DrawnMedia:
    """A finished video's media.

    :param mp4: the video (H.264 and AAC, ``moov`` first).
    :param jpeg: its thumbnail.
    :param gif: its animated-GIF preview.
    :param sample: these are the committed sample files, not drawn for the video (the extra is missing).
    """

    mp4: bytes
    jpeg: bytes
    gif: bytes
    sample: bool = False


def missing_extra() -> str | None:
    """Why videos cannot be drawn (the module that does not import), or ``None`` when they can."""
    try:
        import av  # noqa: F401
        import PIL  # noqa: F401
    except ImportError as problem:
        return f"{problem.name or problem} is not installed"
    return None


def sample_media() -> DrawnMedia:
    """The committed sample files, the same for every video."""
    return DrawnMedia(asset("sample.mp4"), asset("thumbnail.jpg"), asset("preview.gif"), sample=True)


def draw_media(request: RenderRequest, photo: bytes | None) -> DrawnMedia:
    """Draw a video's frame and encode its MP4, thumbnail and GIF.

    :param request: what the video was made from: title, script, duration and look.
    :param photo: the bytes of the photo its first scene animates, when the emulator has them.
    """
    frame = draw_frame(request, photo)
    return DrawnMedia(mp4=encode_mp4(frame, request.duration_seconds), jpeg=encode_jpeg(frame), gif=encode_gif(frame))


# Drawing ----------------------------------------------------------------------------------------


def draw_frame(request: RenderRequest, photo: bytes | None) -> PillowImage.Image:
    """The video's picture: title at the top, the avatar or photo on the left, the script beside it.

    :param request: the video's request.
    :param photo: the photo's bytes, when the scene animates a photo the emulator has.
    """
    from PIL import Image, ImageDraw

    look = request.look
    background = look.background_colour or DEFAULT_BACKGROUND
    frame = Image.new("RGB", (WIDTH, HEIGHT), background)
    draw = ImageDraw.Draw(frame, "RGBA")
    ink = _ink_on(background)
    title = request.title or "Untitled video"
    draw.text((MARGIN, 20), _fit_line(title, _font(TITLE_SIZE), WIDTH - 2 * MARGIN), font=_font(TITLE_SIZE), fill=ink)
    _draw_portrait(frame, draw, look, photo, background)
    left, top, right, bottom = SCRIPT_BOX
    draw.rounded_rectangle(SCRIPT_BOX, radius=10, fill=(0, 0, 0, 150))
    font = _font(SCRIPT_SIZE)
    padding = 12
    line_height = SCRIPT_SIZE + 6
    most_lines = (bottom - top - 2 * padding) // line_height
    lines = _wrap(request.script or "(no script)", font, right - left - 2 * padding, most_lines)
    for number, line in enumerate(lines):
        draw.text((left + padding, top + padding + number * line_height), line, font=font, fill="white")
    return frame


def _draw_portrait(frame: PillowImage.Image, draw: Any, look: VideoLook, photo: bytes | None, colour: str) -> None:
    left, top, right, bottom = PORTRAIT_BOX
    size = (right - left, bottom - top)
    picture = _photo(photo, size) if photo is not None else None
    if picture is not None:
        frame.paste(picture, (left, top))
        return
    # A placeholder: a figure in a colour of its own per avatar, named underneath.
    name = look.avatar_id or ("photo" if look.is_photo else "avatar")
    hue = int.from_bytes(hashlib.sha256(name.encode()).digest()[:2], "big") / 65535
    body = tuple(round(channel * 255) for channel in colorsys.hls_to_rgb(hue, 0.55, 0.45))
    draw.rounded_rectangle(PORTRAIT_BOX, radius=10, fill=(255, 255, 255, 40))
    centre = (left + right) // 2
    draw.ellipse((centre - 42, top + 40, centre + 42, top + 124), fill=body)
    draw.rounded_rectangle((centre - 78, top + 138, centre + 78, bottom - 34), radius=40, fill=body)
    label = _fit_line(name, _font(LABEL_SIZE), size[0] - 16)
    draw.text((centre, bottom - 18), label, font=_font(LABEL_SIZE), fill=_ink_on(colour), anchor="mm")


def _photo(data: bytes, size: tuple[int, int]) -> PillowImage.Image | None:
    """The photo cropped to fill ``size``, or ``None`` when the bytes are no image Pillow can read."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            # A JPEG decodes at a reduced scale straight away when that is all the frame needs.
            image.draft("RGB", (size[0] * 2, size[1] * 2))
            return ImageOps.fit(image.convert("RGB"), size)
    except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        return None


def _font(size: int) -> Any:
    from PIL import ImageFont

    # Pillow's own scalable font (with FreeType, as its wheels have): no system font is needed.
    return ImageFont.load_default(size=size)


def _ink_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (``#rrggbb``)."""
    red, green, blue = (int(colour[index : index + 2], 16) for index in (1, 3, 5))
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "white"


def _fit_line(text: str, font: Any, width: int) -> str:
    """``text`` on one line, cut with an ellipsis when wider than ``width`` pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + ELLIPSIS) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def _wrap(text: str, font: Any, width: int, most_lines: int) -> list[str]:
    """``text`` in lines at most ``width`` pixels wide; the last of ``most_lines`` ends with an ellipsis."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = _fit_line(word, font, width)
        if len(lines) > most_lines:
            break
    if line:
        lines.append(line)
    if len(lines) > most_lines:
        lines = lines[:most_lines]
        lines[-1] = _fit_line(f"{lines[-1]} {ELLIPSIS}", font, width)
    return lines


# Encoding ---------------------------------------------------------------------------------------


def encode_mp4(frame: PillowImage.Image, duration_seconds: float) -> bytes:
    """An H.264 video of ``frame`` with silent AAC audio, lasting ``duration_seconds`` to the millisecond.

    :param frame: the picture.
    :param duration_seconds: the length.
    """
    import av

    length = max(1, round(duration_seconds * 1000))
    with tempfile.TemporaryDirectory(prefix="heygen-emulator-video-") as folder:
        # "faststart" (moov before mdat, as HeyGen serves it) rewrites the file in a second pass,
        # which FFmpeg does by reopening it by name: it needs a real file.
        path = Path(folder) / "video.mp4"
        with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as output:
            video = output.add_stream("libx264", rate=1)
            video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
            video.codec_context.time_base = MILLISECONDS
            video.options = {"preset": "ultrafast", "tune": "stillimage", "crf": "28"}
            audio = output.add_stream("aac", rate=AUDIO_RATE, layout="mono")
            starts = list(range(0, length, SECONDS_PER_FRAME * 1000))
            ends = dict(zip(starts, [*starts[1:], length], strict=True))

            def mux(packets: Iterable[Any]) -> None:
                for packet in packets:
                    # x264 leaves durations out; without them the last frame would last one whole
                    # frame interval and the video would be longer than reported.
                    if packet.stream is video and packet.pts is not None:
                        packet.duration = ends[packet.pts] - packet.pts
                    output.mux(packet)

            picture = av.VideoFrame.from_image(frame).reformat(format="yuv420p")  # type: ignore[no-untyped-call]
            picture.time_base = MILLISECONDS
            for start in starts:
                picture.pts = start
                mux(video.encode(picture))
            mux(video.encode(None))
            for silence in _silence(length * AUDIO_RATE // 1000):
                mux(audio.encode(silence))
            mux(audio.encode(None))
        return path.read_bytes()


def _silence(samples: int) -> Iterator[Any]:
    """Silent mono audio frames of :data:`AAC_FRAME_SAMPLES` samples (the last shorter), ``samples`` in all."""
    import av

    frames: dict[int, Any] = {}
    for start in range(0, samples, AAC_FRAME_SAMPLES):
        count = min(AAC_FRAME_SAMPLES, samples - start)
        frame = frames.get(count)
        if frame is None:
            frame = frames[count] = av.AudioFrame(format="fltp", layout="mono", samples=count)
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            frame.sample_rate = AUDIO_RATE
            frame.time_base = Fraction(1, AUDIO_RATE)
        frame.pts = start
        yield frame


def encode_jpeg(frame: PillowImage.Image) -> bytes:
    """The thumbnail: ``frame`` as a JPEG.

    :param frame: the picture.
    """
    out = io.BytesIO()
    frame.save(out, format="JPEG", quality=80)
    return out.getvalue()


def encode_gif(frame: PillowImage.Image) -> bytes:
    """The preview: ``frame`` at half size as a looping GIF, as HeyGen's previews loop.

    :param frame: the picture.
    """
    out = io.BytesIO()
    frame.resize(GIF_SIZE).quantize(colors=64).save(out, format="GIF", loop=0, duration=1000)
    return out.getvalue()


# The cache --------------------------------------------------------------------------------------


class DrawnMediaCache:
    """Each video's media, drawn once when first wanted and kept for the most recent ``limit`` videos.

    Safe to use from several threads: two requests for the same new video draw it once.

    :param limit: how many videos' media to keep.
    """

    def __init__(self, limit: int = 128) -> None:
        self.limit = limit
        self._media: OrderedDict[str, DrawnMedia] = OrderedDict()
        self._drawing: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._warned = False

    def cached(self, video_id: str) -> DrawnMedia | None:
        """The media of ``video_id`` if they are drawn already.

        :param video_id: the video.
        """
        with self._lock:
            found = self._media.get(video_id)
            if found is not None:
                self._media.move_to_end(video_id)
            return found

    def get(self, video_id: str, request: RenderRequest, photo: Callable[[VideoLook], bytes | None]) -> DrawnMedia:
        """The media of ``video_id``, drawn now if they are not yet: call it off the event loop.

        :param video_id: the video.
        :param request: what it was made from.
        :param photo: finds the bytes of the photo a look names, when the emulator has them.
        """
        found = self.cached(video_id)
        if found is not None:
            return found
        with self._lock:
            drawing = self._drawing.setdefault(video_id, threading.Lock())
        with drawing:
            found = self.cached(video_id)
            if found is not None:
                return found
            drawn = self._draw(request, photo)
            with self._lock:
                self._media[video_id] = drawn
                self._drawing.pop(video_id, None)
                while len(self._media) > self.limit:
                    self._media.popitem(last=False)
            return drawn

    def _draw(self, request: RenderRequest, photo: Callable[[VideoLook], bytes | None]) -> DrawnMedia:
        problem = missing_extra()
        if problem is None:
            return draw_media(request, photo(request.look) if request.look.is_photo else None)
        if not self._warned:
            self._warned = True
            log.warning(
                "HeyGen emulator: %s, so every video is the same 2-second sample; install %s to draw each "
                "video with its title and script",
                problem,
                EXTRA,
            )
        return sample_media()

    def clear(self) -> None:
        """Drop every video's media."""
        with self._lock:
            self._media.clear()
