"""The emulator application: HeyGen's endpoints, authentication, faults and the request log."""

from __future__ import annotations

import json
import math
import re
import secrets
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from heygen_provider.testing.emulator import catalogue, drawing, media, responses, video_page
from heygen_provider.testing.emulator.admin import ADMIN_PREFIX, AdminApi
from heygen_provider.testing.emulator.assets import AssetStore, AssetWriter
from heygen_provider.testing.emulator.faults import (
    RENDER_OUTCOMES,
    SUCCESS,
    FaultBook,
    FaultRule,
    RenderOutcome,
    fault_response,
    too_long_error,
    transform_response,
)
from heygen_provider.testing.emulator.idempotency import IdempotencyStore, StoredAnswer
from heygen_provider.testing.emulator.magic import MagicScenario, parse_magic
from heygen_provider.testing.emulator.messages import CLOSE, HttpRequest, HttpResponse
from heygen_provider.testing.emulator.requestlog import LoggedRequest, RequestLog, fingerprint
from heygen_provider.testing.emulator.settings import EmulatorSettings
from heygen_provider.testing.emulator.state import Clock, VideoJob, VideoStore
from heygen_provider.testing.emulator.v3 import ASSET_MEDIA_PREFIX, UPLOAD_PREFIX, V3_PREFIX, V3Api
from heygen_provider.testing.emulator.validation import (
    Rejection,
    RenderRequest,
    VideoLook,
    validate_avatar_iv,
    validate_generate,
)

MEDIA_PREFIX = "/media/"
MEDIA_PATH = re.compile(r"^/media/(videos|thumbnails|gifs|captions)/([0-9a-f]{32})(\.caption)?\.(mp4|jpg|gif|srt|vtt)$")
STATIC_MEDIA = {
    catalogue.STATIC_THUMBNAIL_PATH: ("thumbnail.jpg", "image/jpeg"),
    catalogue.STATIC_VIDEO_PATH: ("sample.mp4", media.MP4_TYPE),
}
ASSET_MEDIA_PATH = re.compile(r"^/media/assets/([0-9a-f]{32})\.[a-z0-9]+$")
#: The legacy API's paths, which ``legacy_retired`` turns into 404 pages.
LEGACY_PREFIXES = ("/v1/", "/v2/")
TERMINAL = frozenset({"completed", "failed"})

Route = Callable[[HttpRequest, LoggedRequest, "str | None", float], HttpResponse]
cached_fingerprint = lru_cache(maxsize=256)(fingerprint)


class EmulatorApp:
    """Answers HeyGen API requests from in-memory state.

    :param settings: the start-up settings; :meth:`reset` returns to them.
    :param signing_secret: the key for media URL signatures (random unless given).
    """

    def __init__(self, settings: EmulatorSettings, signing_secret: bytes | None = None) -> None:
        self.initial_settings = settings
        self.settings = settings
        self.clock = Clock()
        self.faults = FaultBook()
        self.log = RequestLog(settings.request_log_limit)
        self.store = VideoStore(settings.limits.concurrent_renders, settings.remaining_quota)
        self.assets = AssetStore()
        self.idempotency = IdempotencyStore()
        #: The idempotent answer the request being handled kept, so that a delay given to its answer
        #: afterwards (the ``slow`` fault, ``create_delay_seconds``) keeps it in flight.
        self.kept_answer: StoredAnswer | None = None
        #: Encoded legacy status answers of unfinished renders, by video id and status.
        self.running_answers: dict[tuple[str, str], bytes] = {}
        self.signer = media.UrlSigner(signing_secret or secrets.token_bytes(32))
        #: Each finished video's MP4, thumbnail and GIF, drawn from its request when first fetched.
        self.drawn_media = drawing.DrawnMediaCache()
        self.base_url = "http://127.0.0.1"
        self.admin = AdminApi(self)
        self.v3 = V3Api(self)
        self.routes: dict[tuple[str, str], Route] = {
            ("POST", "/v2/video/generate"): self.create_video,
            ("POST", "/v2/video/av4/generate"): self.create_avatar_iv_video,
            ("GET", "/v1/video_status.get"): self.video_status,
            ("GET", "/v2/avatars"): lambda *_: responses.v2_success(catalogue.avatars_payload(self.base_url)),
            ("GET", "/v2/voices"): lambda *_: responses.v2_success(catalogue.voices_payload()),
            ("GET", "/v2/user/remaining_quota"): self.remaining_quota,
            ("GET", "/v1/user/me"): lambda *_: responses.legacy_success(self.user()),
        }
        self.known_paths = {path for _, path in self.routes}

    # Settings and reset -------------------------------------------------------------------------

    def apply_settings(self, settings: EmulatorSettings) -> None:
        """Switch to new settings while running; videos already scheduled keep their timetable.

        :param settings: the new settings.
        """
        previous, self.settings = self.settings, settings
        if settings.limits.concurrent_renders != previous.limits.concurrent_renders:
            self.store.set_concurrency(settings.limits.concurrent_renders)
        if settings.remaining_quota != previous.remaining_quota:
            self.store.remaining_quota = settings.remaining_quota
        if settings.request_log_limit != previous.request_log_limit:
            entries = list(self.log.entries)
            self.log = RequestLog(settings.request_log_limit)
            for entry in entries:
                self.log.record(entry)

    def reset(self) -> None:
        """Back to the start-up state: no videos, requests, faults, clock offset or setting changes."""
        self.settings = self.initial_settings
        self.clock = Clock()
        self.faults.clear()
        self.log = RequestLog(self.settings.request_log_limit)
        self.store = VideoStore(self.settings.limits.concurrent_renders, self.settings.remaining_quota)
        self.running_answers.clear()
        self.assets.clear()
        self.idempotency.clear()
        self.drawn_media.clear()

    # Request handling ---------------------------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request. Runs on the event loop for every request, so it stays cheap.

        :param request: the parsed request.
        """
        path = request.path
        if path.startswith(ADMIN_PREFIX):
            return self.admin.handle(request)
        if path.startswith(UPLOAD_PREFIX):
            return self._upload_in_one(request)
        now = self.clock.now()
        entry = self._entry(request, now)
        accepted = self._read_credential(request, entry)
        if not path.startswith(MEDIA_PREFIX):
            entry.authenticated = accepted
        self.kept_answer = None
        rule = self.faults.take(request.method, path) if self.faults.rules else None
        if rule is None:
            response = self._route(request, entry, None, now)
        elif rule.fault in RENDER_OUTCOMES:
            response = self._route(request, entry, rule.fault, now)
        else:
            entry.fault = rule.fault
            response = self._faulted(rule, now, lambda: self._route(request, entry, None, now), _is_v3(path))
        if self.kept_answer is not None and response.delay_seconds:
            self.kept_answer.hold(response.delay_seconds)
        return self.log_answer(entry, response)

    def _entry(self, request: HttpRequest, now: float) -> LoggedRequest:
        return LoggedRequest(
            method=request.method,
            path=request.path,
            query=request.query,
            status=None,
            timestamp=now,
            authenticated=None,
            credential=None,
            key_fingerprint=None,
            json=_logged_body(request),
        )

    def log_answer(self, entry: LoggedRequest, response: HttpResponse) -> HttpResponse:
        """Record a request in the log with the status of its answer, and pass the answer on.

        :param entry: the request.
        :param response: its answer (a disconnect is logged with status ``None``).
        """
        entry.status = response.status if response.disconnect is None else None
        self.log.record(entry)
        return response

    # Direct uploads: the body streams to disk ---------------------------------------------------

    def open_stream(self, request: HttpRequest) -> HttpResponse | UploadSink | None:
        """Take over a request whose body must not be read into memory: a ``PUT`` to an ``upload_url``.

        The transport calls this before reading a ``PUT`` body. ``None`` means "handle it as usual";
        an answer means "refused, do not read the body"; a sink receives the body chunk by chunk.
        Fault rules apply as on every path (a replacing fault refuses before the body is read).

        :param request: the request, its body not read.
        """
        if not request.path.startswith(UPLOAD_PREFIX):
            return None
        now = self.clock.now()
        entry = self._entry(request, now)
        self._read_credential(request, entry)
        rule = self.faults.take(request.method, request.path) if self.faults.rules else None
        if rule is not None and rule.fault not in RENDER_OUTCOMES:
            entry.fault = rule.fault
            if not rule.transforms:
                return self.log_answer(entry, fault_response(rule, now))
        opened = self.v3.open_upload(request, entry, now)
        if isinstance(opened, HttpResponse):
            return self.log_answer(entry, opened)
        return UploadSink(self, opened, entry, rule if entry.fault else None, now)

    def _upload_in_one(self, request: HttpRequest) -> HttpResponse:
        # The same upload, when a transport hands over the body already read.
        opened = self.open_stream(request)
        if opened is None or isinstance(opened, HttpResponse):
            return opened or responses.v3_error(404, "not_found", "No such upload")
        opened.write(request.body)
        return opened.finish()

    def _read_credential(self, request: HttpRequest, entry: LoggedRequest) -> bool:
        key = request.headers.get("x-api-key")
        if key is not None:
            entry.credential, entry.key_fingerprint = "x-api-key", cached_fingerprint(key)
            return key in self.settings.api_keys
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if not token:
            return False
        token = token.strip()
        entry.credential, entry.key_fingerprint = scheme.lower(), cached_fingerprint(token)
        # HeyGen takes API keys only in X-Api-Key; a Bearer header must carry an OAuth token.
        return scheme.lower() == "bearer" and token in self.settings.bearer_tokens

    def _faulted(
        self, rule: FaultRule, now: float, normal: Callable[[], HttpResponse], v3: bool = False
    ) -> HttpResponse:
        if rule.transforms:
            return transform_response(rule, normal(), now, v3)
        return fault_response(rule, now, v3)

    def _route(self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float) -> HttpResponse:
        path = request.path
        if path.startswith(MEDIA_PREFIX):
            return self.serve_media(request, entry, now)
        if path.startswith(V3_PREFIX):
            return self.v3.handle(request, entry, render_fault, now)
        if request.method == "GET" and (page := video_page.PATH.match(path)):
            job = self.store.jobs.get(page.group(1))
            return video_page.render_video_page(self.v3.video(job, now) if job else None, page.group(1))
        if self.settings.legacy_retired:
            return responses.retired()
        if not entry.authenticated:
            return responses.unauthorized()
        route = self.routes.get((request.method, path))
        if route is not None:
            return route(request, entry, render_fault, now)
        if path in self.known_paths:
            return responses.v2_error(405, "method_not_allowed", f"{request.method} is not allowed on {path}")
        return responses.v2_error(404, "not_found", f"No route for {request.method} {path}")

    # Video creation -----------------------------------------------------------------------------

    def create_video(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float
    ) -> HttpResponse:
        """``POST /v2/video/generate``."""
        return self._create(request, entry, render_fault, now, validate_generate)

    def create_avatar_iv_video(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float
    ) -> HttpResponse:
        """``POST /v2/video/av4/generate`` (Avatar IV from a photo)."""
        return self._create(request, entry, render_fault, now, validate_avatar_iv)

    def _create(
        self,
        request: HttpRequest,
        entry: LoggedRequest,
        render_fault: str | None,
        now: float,
        validator: Callable[[object, EmulatorSettings], RenderRequest],
    ) -> HttpResponse:
        parsed = self.parse_create(request, validator)
        if isinstance(parsed, Rejection):
            return responses.v2_error(parsed.http_status, parsed.code, parsed.message)
        render, magic = parsed
        return self.make_video(
            render,
            magic,
            entry,
            render_fault=render_fault,
            now=now,
            answer=lambda job: responses.v2_success({"video_id": job.video_id}),
        )

    def parse_create(
        self, request: HttpRequest, validator: Callable[[object, EmulatorSettings], RenderRequest]
    ) -> tuple[RenderRequest, MagicScenario] | Rejection:
        """Validate a creation request and read its magic values.

        :param request: the request.
        :param validator: checks the decoded body against the endpoint's rules.
        :returns: what to render and the scenario its markers ask for, or why it is refused.
        """
        try:
            body = json.loads(request.body or b"null")
        except ValueError as problem:
            return Rejection(f"Invalid request: the body is not JSON ({problem})")
        try:
            render = validator(body, self.settings)
        except Rejection as rejection:
            return rejection
        except ValueError as problem:
            return Rejection(f"Invalid request: {problem}")
        try:
            return render, parse_magic(render.magic_text)
        except ValueError as problem:
            marked = "title" if "emulator:" in (render.title or "") else "callback_id"
            return Rejection(f"Invalid request: {problem}", param=marked)

    def make_video(
        self,
        render: RenderRequest,
        magic: MagicScenario,
        entry: LoggedRequest,
        *,
        render_fault: str | None,
        now: float,
        answer: Callable[[VideoJob], HttpResponse],
        v3: bool = False,
    ) -> HttpResponse:
        """Create the video a valid request asks for, with the scenario its magic values pick.

        :param render: the validated request.
        :param magic: its scenario markers.
        :param entry: the request-log entry.
        :param render_fault: a render outcome a fault rule asks for.
        :param now: the emulator's time.
        :param answer: the endpoint's answer for the created video.
        :param v3: answer a marker's fault in v3's error shape.
        """

        def create() -> HttpResponse:
            outcome_name = render_fault or magic.render_outcome
            outcome = RENDER_OUTCOMES[outcome_name] if outcome_name else SUCCESS
            limit = self.settings.limits.max_video_seconds
            if outcome is SUCCESS and render.duration_seconds > limit:
                outcome = RenderOutcome("failed", too_long_error(limit))
            job = self.store.create(
                render,
                outcome,
                now=now,
                pending_seconds=self.settings.pending_seconds,
                render_seconds=self.settings.render_seconds if magic.render_seconds is None else magic.render_seconds,
                size_bytes=magic.size_bytes or self.settings.video_size_bytes,
            )
            job.poll_fault, job.poll_faults_left = magic.poll_fault, magic.poll_fault_count
            entry.video_id = job.video_id
            created = answer(job)
            created.delay_seconds = self.settings.create_delay_seconds
            return created

        if magic.create_fault is not None:
            entry.fault = magic.create_fault
            return self._faulted(FaultRule(0, magic.create_fault, remaining=None), now, create, v3)
        return create()

    # Status -------------------------------------------------------------------------------------

    def video_status(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float
    ) -> HttpResponse:
        """``GET /v1/video_status.get?video_id=ID``, the legacy status endpoint."""
        video_id = request.query.get("video_id")
        if not video_id:
            return responses.v1_error(424, 424, "Invalid parameters: video_id is required")
        entry.video_id = video_id
        job = self.store.jobs.get(video_id)
        if job is None:
            return responses.video_not_found(video_id)
        return self.poll(job, entry, now, lambda: self._status_v1_answer(job, now))

    def _status_v1_answer(self, job: VideoJob, now: float) -> HttpResponse:
        status = job.status_at(now)
        if status in TERMINAL:
            return responses.legacy_success(self._status_v1(job, status, now))
        # Most polls are of renders still running, whose answer changes only with the status: it is
        # encoded once, not on each of the thousands of polls a triggerer benchmark sends.
        key = (job.video_id, status)
        body = self.running_answers.get(key)
        if body is None:
            body = self.running_answers[key] = responses.legacy_success(self._status_v1(job, status, now)).body
        return HttpResponse(200, body)

    def poll(
        self, job: VideoJob, entry: LoggedRequest, now: float, normal: Callable[[], HttpResponse], v3: bool = False
    ) -> HttpResponse:
        """A status answer, or the fault an ``emulator:poll=...`` marker still owes this video.

        :param job: the video polled.
        :param entry: the request-log entry.
        :param now: the emulator's time.
        :param normal: the answer without a fault.
        :param v3: answer the fault in v3's error shape.
        """
        if job.poll_faults_left <= 0 or job.poll_fault is None:
            return normal()
        job.poll_faults_left -= 1
        entry.fault = job.poll_fault
        return self._faulted(FaultRule(0, job.poll_fault), now, normal, v3)

    def media_urls(self, job: VideoJob, now: float) -> dict[str, str | None]:
        """Freshly signed URLs of a completed video's media (captions only when they were asked for).

        :param job: the video.
        :param now: the emulator's time, from which the signatures expire.
        """
        expires = math.ceil(now + self.settings.url_lifetime_seconds)
        video_id = job.video_id

        def signed(path: str) -> str:
            return self.base_url + self.signer.sign(path, expires)

        request = job.request
        return {
            "video_url": signed(f"/media/videos/{video_id}.mp4"),
            "video_url_caption": signed(f"/media/videos/{video_id}.caption.mp4") if request.captioned_video else None,
            "thumbnail_url": signed(f"/media/thumbnails/{video_id}.jpg"),
            "gif_url": signed(f"/media/gifs/{video_id}.gif"),
            "caption_url": signed(f"/media/captions/{video_id}.srt") if request.caption else None,
        }

    def _status_v1(self, job: VideoJob, status: str, now: float) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": job.video_id,
            "status": status,
            "video_url": None,
            "video_url_caption": None,
            "thumbnail_url": None,
            "gif_url": None,
            "caption_url": None,
            "duration": None,
            "created_at": None,
            "callback_id": None,
            "error": None,
        }
        if status in TERMINAL:
            data["created_at"] = int(job.created_at)
            data["callback_id"] = job.request.callback_id
            data["error"] = job.outcome.error
        if status == "completed":
            data.update(self.media_urls(job, now))
            data["duration"] = job.request.duration_seconds
        return data

    # Account ------------------------------------------------------------------------------------

    def remaining_quota(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float
    ) -> HttpResponse:
        """``GET /v2/user/remaining_quota``: seconds of video left."""
        quota = round(self.store.remaining_quota, 3)
        return responses.v2_success({"remaining_quota": quota, "details": {"api": quota}})

    def user(self) -> dict[str, Any]:
        """The account the emulator pretends the key belongs to."""
        return {
            "username": "heygen-emulator",
            "email": "emulator@heygen-emulator.invalid",
            "first_name": "HeyGen",
            "last_name": "Emulator",
            "plan": self.settings.plan,
        }

    # Media --------------------------------------------------------------------------------------

    def serve_media(self, request: HttpRequest, entry: LoggedRequest, now: float) -> HttpResponse:
        """Signed media of finished videos, and the unsigned previews of the avatar catalogue and assets."""
        if request.method not in ("GET", "HEAD"):
            return media.s3_error(405, "MethodNotAllowed", "The specified method is not allowed")
        range_header = request.headers.get("range")
        static = STATIC_MEDIA.get(request.path)
        if static is not None:
            return media.file_response(media.VirtualFile(media.asset(static[0])), static[1], range_header)
        if request.path.startswith(ASSET_MEDIA_PREFIX):
            return self._serve_asset(request.path, range_header)
        refusal = self.signer.refusal(request.path, request.query, now)
        if refusal is not None:
            return refusal
        match = MEDIA_PATH.match(request.path)
        job = self.store.jobs.get(match.group(2)) if match else None
        if match is None or job is None or job.status_at(now) != "completed":
            return media.s3_error(404, "NoSuchKey", "The specified key does not exist.")
        entry.video_id = job.video_id
        kind, extension = match.group(1), match.group(4)
        if kind == "captions":
            body = media.captions(job.request.script, job.request.duration_seconds, extension)
            content_type = "application/x-subrip" if extension == "srt" else "text/vtt"
            return media.file_response(media.VirtualFile(body), content_type, range_header)
        return self._serve_drawn(job, kind, range_header, entry)

    def _serve_drawn(self, job: VideoJob, kind: str, range_header: str | None, entry: LoggedRequest) -> HttpResponse:
        """A video's MP4, thumbnail or GIF, drawn in a worker thread the first time they are fetched."""

        def answer() -> HttpResponse:
            drawn = self.drawn_media.get(job.video_id, job.request, self.photo_of)
            if kind == "videos":
                response = media.file_response(
                    media.padded_mp4(job.size_bytes, drawn.mp4), media.MP4_TYPE, range_header
                )
            elif kind == "thumbnails":
                response = media.file_response(media.VirtualFile(drawn.jpeg), "image/jpeg", range_header)
            else:
                response = media.file_response(media.VirtualFile(drawn.gif), "image/gif", range_header)
            if drawn.sample:
                response.headers.append((drawing.SAMPLE_HEADER, f"sample; install {drawing.EXTRA} to draw each video"))
            # The log recorded the request when it was routed; its status is only known now.
            entry.status = response.status
            return response

        if self.drawn_media.cached(job.video_id) is not None:
            return answer()
        return HttpResponse(200, content_type=media.MP4_TYPE, prepare=answer)

    def photo_of(self, look: VideoLook) -> bytes | None:
        """The bytes of the photo a video animates, when the emulator has them: sent inline, uploaded as an
        asset, or an ``image_url`` that is one of the emulator's own asset URLs; else ``None``.

        :param look: what the video's first scene shows.
        """
        if look.photo_data is not None:
            return look.photo_data
        asset_id = look.photo_asset_id
        if asset_id is None and look.photo_url is not None:
            parts = urlsplit(look.photo_url)
            own = ASSET_MEDIA_PATH.match(parts.path) if f"{parts.scheme}://{parts.netloc}" == self.base_url else None
            asset_id = own.group(1) if own else None
        asset = self.assets.assets.get(asset_id) if asset_id else None
        if asset is None or asset.status != "completed" or asset.kind != "image":
            return None
        return asset.path.read_bytes()

    def _serve_asset(self, path: str, range_header: str | None) -> HttpResponse:
        match = ASSET_MEDIA_PATH.match(path)
        asset = self.assets.assets.get(match.group(1)) if match else None
        if asset is None or asset.status != "completed":
            return media.s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return media.file_response(asset, asset.mime_type, range_header)


class UploadSink:
    """Receives a direct upload's body from the transport, then answers and logs the request.

    :param app: the emulator.
    :param writer: stores the bytes.
    :param entry: the request-log entry.
    :param rule: a transforming fault (``slow``, or any fault with ``process``) to apply to the answer.
    :param now: the emulator's time when the request arrived.
    """

    def __init__(self, app: EmulatorApp, writer: AssetWriter, entry: LoggedRequest, rule: FaultRule | None, now: float):
        self.app = app
        self.writer = writer
        self.entry = entry
        self.rule = rule
        self.now = now

    def write(self, chunk: bytes) -> bool:
        """Store the next chunk; ``False`` when no more is wanted (the upload passed its declared size).

        :param chunk: the bytes.
        """
        return self.writer.write(chunk)

    def finish(self) -> HttpResponse:
        """The answer, once the whole body (or as much as was wanted) has been written."""
        response = self.app.v3.finish_upload(self.writer, self.entry)
        if self.rule is not None:
            response = transform_response(self.rule, response, self.now)
        return self.app.log_answer(self.entry, response)

    def abort(self) -> None:
        """The client left before sending its whole body: nothing is stored, the log shows no status."""
        self.writer.close()
        self.app.log_answer(self.entry, HttpResponse(0, disconnect=CLOSE))


def _is_v3(path: str) -> bool:
    return path.startswith(V3_PREFIX)


def _logged_body(request: HttpRequest) -> Any:
    if request.method != "POST":
        return None
    if request.parts:
        return [part.logged() for part in request.parts]
    if not request.body:
        return None
    try:
        return json.loads(request.body)
    except ValueError:
        return request.body.decode("utf-8", "replace")
