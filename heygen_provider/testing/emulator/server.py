"""The emulator application: HeyGen's endpoints, authentication, faults and the request log."""

from __future__ import annotations

import json
import math
import re
import secrets
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from heygen_provider.testing.emulator import catalogue, media, responses
from heygen_provider.testing.emulator.admin import ADMIN_PREFIX, AdminApi
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
from heygen_provider.testing.emulator.magic import parse_magic
from heygen_provider.testing.emulator.messages import HttpRequest, HttpResponse, json_response
from heygen_provider.testing.emulator.requestlog import LoggedRequest, RequestLog, fingerprint
from heygen_provider.testing.emulator.settings import EmulatorSettings
from heygen_provider.testing.emulator.state import Clock, VideoJob, VideoStore
from heygen_provider.testing.emulator.validation import (
    Rejection,
    RenderRequest,
    validate_avatar_iv,
    validate_generate,
)

MEDIA_PREFIX = "/media/"
MEDIA_PATH = re.compile(r"^/media/(videos|thumbnails|gifs|captions)/([0-9a-f]{32})(\.caption)?\.(mp4|jpg|gif|srt|vtt)$")
STATIC_MEDIA = {
    catalogue.STATIC_THUMBNAIL_PATH: ("thumbnail.jpg", "image/jpeg"),
    catalogue.STATIC_VIDEO_PATH: ("sample.mp4", media.MP4_TYPE),
}
V3_VIDEO_PREFIX = "/v3/videos/"
V3_STATUSES = {"pending": "queued", "waiting": "queued"}
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
        #: Encoded legacy status answers of unfinished renders, by video id and status.
        self.running_answers: dict[tuple[str, str], bytes] = {}
        self.signer = media.UrlSigner(signing_secret or secrets.token_bytes(32))
        self.base_url = "http://127.0.0.1"
        self.admin = AdminApi(self)
        self.routes: dict[tuple[str, str], Route] = {
            ("POST", "/v2/video/generate"): self.create_video,
            ("POST", "/v2/video/av4/generate"): self.create_avatar_iv_video,
            ("GET", "/v1/video_status.get"): self.video_status,
            ("GET", "/v2/avatars"): lambda *_: responses.v2_success(catalogue.avatars_payload(self.base_url)),
            ("GET", "/v2/voices"): lambda *_: responses.v2_success(catalogue.voices_payload()),
            ("GET", "/v2/user/remaining_quota"): self.remaining_quota,
            ("GET", "/v1/user/me"): lambda *_: responses.legacy_success(self.user()),
            ("GET", "/v3/users/me"): lambda *_: json_response(200, {"data": self.user()}),
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

    # Request handling ---------------------------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request. Runs on the event loop for every request, so it stays cheap.

        :param request: the parsed request.
        """
        path = request.path
        if path.startswith(ADMIN_PREFIX):
            return self.admin.handle(request)
        now = self.clock.now()
        entry = LoggedRequest(
            method=request.method,
            path=path,
            query=request.query,
            status=None,
            timestamp=now,
            authenticated=None,
            credential=None,
            key_fingerprint=None,
            json=_logged_body(request),
        )
        accepted = self._read_credential(request, entry)
        if not path.startswith(MEDIA_PREFIX):
            entry.authenticated = accepted
        rule = self.faults.take(request.method, path) if self.faults.rules else None
        if rule is None:
            response = self._route(request, entry, None, now)
        elif rule.fault in RENDER_OUTCOMES:
            response = self._route(request, entry, rule.fault, now)
        else:
            entry.fault = rule.fault
            response = self._faulted(rule, now, lambda: self._route(request, entry, None, now))
        entry.status = response.status if response.disconnect is None else None
        self.log.record(entry)
        return response

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

    def _faulted(self, rule: FaultRule, now: float, normal: Callable[[], HttpResponse]) -> HttpResponse:
        if rule.transforms:
            return transform_response(rule, normal(), now)
        return fault_response(rule, now)

    def _route(self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float) -> HttpResponse:
        path = request.path
        if path.startswith(MEDIA_PREFIX):
            return self.serve_media(request, entry, now)
        if not entry.authenticated:
            return responses.unauthorized()
        route = self.routes.get((request.method, path))
        if route is not None:
            return route(request, entry, render_fault, now)
        if path.startswith(V3_VIDEO_PREFIX) and request.method == "GET":
            return self.video_v3(request, entry, render_fault, now)
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
        try:
            render = validator(json.loads(request.body or b"null"), self.settings)
            magic = parse_magic(render.magic_text)
        except Rejection as rejection:
            return responses.v2_error(rejection.http_status, rejection.code, rejection.message)
        except ValueError as problem:
            return responses.v2_error(400, "invalid_parameter", f"Invalid request: {problem}")

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
            return responses.v2_success({"video_id": job.video_id})

        if magic.create_fault is not None:
            entry.fault = magic.create_fault
            return self._faulted(FaultRule(0, magic.create_fault, remaining=None), now, create)
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
        return self._poll(job, entry, now, lambda: self._status_v1_answer(job, now))

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

    def video_v3(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float
    ) -> HttpResponse:
        """``GET /v3/videos/{id}``, the v3 status endpoint."""
        video_id = request.path[len(V3_VIDEO_PREFIX) :]
        entry.video_id = video_id
        job = self.store.jobs.get(video_id)
        if job is None:
            return responses.v3_error(404, "not_found", f"Video {video_id} not found", param="video_id")
        return self._poll(job, entry, now, lambda: json_response(200, {"data": self._status_v3(job, now)}))

    def _poll(
        self, job: VideoJob, entry: LoggedRequest, now: float, normal: Callable[[], HttpResponse]
    ) -> HttpResponse:
        if job.poll_faults_left <= 0 or job.poll_fault is None:
            return normal()
        job.poll_faults_left -= 1
        entry.fault = job.poll_fault
        return self._faulted(FaultRule(0, job.poll_fault), now, normal)

    def _media_urls(self, job: VideoJob, now: float, caption_format: str = "srt") -> dict[str, str | None]:
        expires = math.ceil(now + self.settings.url_lifetime_seconds)
        video_id = job.video_id

        def signed(path: str) -> str:
            return self.base_url + self.signer.sign(path, expires)

        captioned = job.request.caption
        return {
            "video_url": signed(f"/media/videos/{video_id}.mp4"),
            "video_url_caption": signed(f"/media/videos/{video_id}.caption.mp4") if captioned else None,
            "thumbnail_url": signed(f"/media/thumbnails/{video_id}.jpg"),
            "gif_url": signed(f"/media/gifs/{video_id}.gif"),
            "caption_url": signed(f"/media/captions/{video_id}.{caption_format}") if captioned else None,
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
            data.update(self._media_urls(job, now))
            data["duration"] = job.request.duration_seconds
        return data

    def _status_v3(self, job: VideoJob, now: float) -> dict[str, Any]:
        status = job.status_at(now)
        completed = status == "completed"
        urls = self._media_urls(job, now, caption_format="vtt") if completed else {}
        error = job.outcome.error if status in TERMINAL else None
        return {
            "id": job.video_id,
            "title": job.request.title,
            "status": V3_STATUSES.get(status, status),
            "video_url": urls.get("video_url"),
            "captioned_video_url": urls.get("video_url_caption"),
            "subtitle_url": urls.get("caption_url"),
            "thumbnail_url": urls.get("thumbnail_url"),
            "gif_url": urls.get("gif_url"),
            "video_page_url": f"{self.base_url}/videos/{job.video_id}" if completed else None,
            "duration": job.request.duration_seconds if completed else None,
            "created_at": int(job.created_at),
            "callback_id": job.request.callback_id,
            "failure_code": None if error is None else str(error["code"]),
            "failure_message": None if error is None else error["message"],
        }

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
        """Signed media of finished videos, and the unsigned previews of the avatar catalogue."""
        if request.method not in ("GET", "HEAD"):
            return media.s3_error(405, "MethodNotAllowed", "The specified method is not allowed")
        range_header = request.headers.get("range")
        static = STATIC_MEDIA.get(request.path)
        if static is not None:
            return media.file_response(media.VirtualFile(media.asset(static[0])), static[1], range_header)
        refusal = self.signer.refusal(request.path, request.query, now)
        if refusal is not None:
            return refusal
        match = MEDIA_PATH.match(request.path)
        job = self.store.jobs.get(match.group(2)) if match else None
        if match is None or job is None or job.status_at(now) != "completed":
            return media.s3_error(404, "NoSuchKey", "The specified key does not exist.")
        entry.video_id = job.video_id
        kind, extension = match.group(1), match.group(4)
        if kind == "videos":
            return media.file_response(media.padded_mp4(job.size_bytes), media.MP4_TYPE, range_header)
        if kind == "thumbnails":
            return media.file_response(media.VirtualFile(media.asset("thumbnail.jpg")), "image/jpeg", range_header)
        if kind == "gifs":
            return media.file_response(media.VirtualFile(media.asset("preview.gif")), "image/gif", range_header)
        body = media.captions(job.request.script, job.request.duration_seconds, extension)
        content_type = "application/x-subrip" if extension == "srt" else "text/vtt"
        return media.file_response(media.VirtualFile(body), content_type, range_header)


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
