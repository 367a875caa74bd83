"""HeyGen's current API, v3: videos, bulk statuses, assets, templates, the account, voices and avatars.

Every answer follows the response schemas in ``schemas/heygen_v3.json``: ``{"data": ...}`` on
success, listings as ``{"data": [...], "has_more", "next_token"}``, and errors as
``{"error": {"code", "message", "param", "doc_url"}}``. Mutations honour ``Idempotency-Key``
(:mod:`~heygen_provider.testing.emulator.idempotency`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from heygen_provider.testing.emulator import assets, catalogue, idempotency, media, responses, schema, templates
from heygen_provider.testing.emulator.assets import Asset, AssetWriter
from heygen_provider.testing.emulator.messages import HttpRequest, HttpResponse
from heygen_provider.testing.emulator.requestlog import LoggedRequest
from heygen_provider.testing.emulator.state import VideoJob
from heygen_provider.testing.emulator.validation import Rejection
from heygen_provider.testing.emulator.validation_v3 import validate_create_v3

if TYPE_CHECKING:
    from heygen_provider.testing.emulator.server import EmulatorApp

V3_PREFIX = "/v3/"
UPLOAD_PREFIX = "/_uploads/"
ASSET_MEDIA_PREFIX = "/media/assets/"
MUTATIONS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_BULK_IDS = 100
#: v3's status words: ``GET /v3/videos/{id}`` says pending, the bulk endpoint queued.
DETAIL_STATUSES = {"waiting": "pending"}
BULK_STATUSES = {"pending": "queued", "waiting": "queued"}
TERMINAL = frozenset({"completed", "failed"})
#: What ``GET /v3/users/me`` reports: a wallet balance at the price of a second of Avatar IV video
#: of a studio avatar (USD 0.0667), or credits as minutes of video.
USD_PER_SECOND = 0.0667
SECONDS_PER_CREDIT = 60.0
#: The emulator's plans as ``subscription.plan`` names them.
SUBSCRIPTION_PLANS = {
    "pay_as_you_go": "pay_as_you_go",
    "free": "free",
    "pro": "pro",
    "scale": "team",
    "enterprise": "enterprise",
}
VIDEO_PATH = re.compile(r"^/v3/videos/([^/]+)$")
TEMPLATE_PATH = re.compile(r"^/v3/templates/([^/]+)$")
COMPLETE_PATH = re.compile(r"^/v3/assets/([^/]+)/complete$")
UPLOAD_PATH = re.compile(r"^/_uploads/([0-9a-f]{32})$")

V3Route = Callable[[HttpRequest, LoggedRequest, "str | None", float, str], HttpResponse]


def _ids(text: str | None) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def _encode_token(position: int) -> str:
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def _decode_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        if not text.startswith("p"):
            raise ValueError(text)
        return int(text[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Rejection("token is not a cursor this endpoint gave out", param="token") from None


def paginate(
    query: dict[str, str], items: Sequence[tuple[int, Any]], max_limit: int, default_limit: int
) -> HttpResponse:
    """One page of a listing, with v3's ``limit`` and ``token`` (an opaque cursor).

    :param query: the request's query parameters.
    :param items: ``(position, item)`` pairs in increasing position; a cursor remembers the position
        of the last item it showed, so items created or deleted meanwhile do not shift the pages.
    :param max_limit: the largest ``limit`` allowed.
    :param default_limit: the ``limit`` when none is given.
    :raises Rejection: on a bad ``limit`` or ``token``.
    """
    limit = default_limit
    if query.get("limit"):
        text = query["limit"]
        if not text.isdigit() or not 1 <= int(text) <= max_limit:
            raise Rejection(f"limit must be an integer from 1 to {max_limit}; got {text!r}", param="limit")
        limit = int(text)
    start = 0
    if query.get("token"):
        after = _decode_token(query["token"])
        start = next((index for index, (position, _) in enumerate(items) if position > after), len(items))
    page = items[start : start + limit]
    next_token = _encode_token(page[-1][0]) if page and start + limit < len(items) else None
    return responses.v3_page([item for _, item in page], next_token)


def _filtered(items: list[dict[str, Any]], query: dict[str, str], names: Sequence[str]) -> list[tuple[int, Any]]:
    wanted = {name: query[name].lower() for name in names if query.get(name)}
    chosen = [item for item in items if all(str(item.get(name)).lower() == value for name, value in wanted.items())]
    return list(enumerate(chosen))


class V3Api:
    """Serves the ``/v3/...`` paths (and the direct-upload target) of one emulator.

    :param app: the emulator it belongs to.
    """

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app
        self.routes: dict[tuple[str, str], V3Route] = {
            ("POST", "/v3/videos"): self.create_video,
            ("GET", "/v3/videos"): self.list_videos,
            ("GET", "/v3/videos/statuses"): self.bulk_statuses,
            ("GET", "/v3/users/me"): self.me,
            ("GET", "/v3/voices"): self.voices,
            ("GET", "/v3/avatars/looks"): self.looks,
            ("GET", "/v3/avatars"): self.avatar_groups,
            ("POST", "/v3/assets"): self.upload_asset,
            ("POST", "/v3/assets/direct-uploads"): self.direct_upload,
            ("GET", "/v3/templates"): self.list_templates,
        }
        self.patterns: list[tuple[str, re.Pattern[str], V3Route]] = [
            ("GET", VIDEO_PATH, self.get_video),
            ("DELETE", VIDEO_PATH, self.delete_video),
            ("POST", COMPLETE_PATH, self.complete_asset),
            ("GET", TEMPLATE_PATH, self.get_template),
            ("POST", TEMPLATE_PATH, self.generate_from_template),
        ]
        self.known_paths = {path for _, path in self.routes}

    # Routing ------------------------------------------------------------------------------------

    def handle(self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float) -> HttpResponse:
        """Answer an authenticated or unauthenticated request to a ``/v3/`` path.

        :param request: the request.
        :param entry: its request-log entry, which handlers fill in.
        :param render_fault: a render outcome a fault rule asks for, for creation requests.
        :param now: the emulator's time.
        """
        if not entry.authenticated:
            return responses.v3_unauthorized()
        found = self._find(request.method, request.path)
        if isinstance(found, HttpResponse):
            return found
        route, argument = found
        try:
            if request.method in MUTATIONS:
                return self._idempotent(request, entry, now, lambda: route(request, entry, render_fault, now, argument))
            return route(request, entry, render_fault, now, argument)
        except Rejection as rejection:
            return responses.v3_error(rejection.http_status, rejection.code, rejection.message, rejection.param)

    def _find(self, method: str, path: str) -> tuple[V3Route, str] | HttpResponse:
        route = self.routes.get((method, path))
        if route is not None:
            return route, ""
        allowed = path in self.known_paths
        for pattern_method, pattern, handler in self.patterns:
            match = pattern.match(path)
            if match is not None:
                if pattern_method == method:
                    return handler, match.group(1)
                allowed = True
        if allowed:
            return responses.v3_error(405, "method_not_allowed", f"{method} is not allowed on {path}")
        return responses.v3_error(404, "not_found", f"No route for {method} {path}")

    def _idempotent(
        self, request: HttpRequest, entry: LoggedRequest, now: float, run: Callable[[], HttpResponse]
    ) -> HttpResponse:
        key = request.headers.get(idempotency.HEADER)
        if key is None:
            return run()
        entry.idempotency_key = key
        if not idempotency.valid_key(key):
            raise Rejection(
                f"{idempotency.HEADER} must be 1 to 255 characters of letters, digits, _ : . and -",
                param=idempotency.HEADER,
            )
        scope = (request.method, request.path, key)
        stored = self.app.idempotency.find(scope, now)
        if stored is not None:
            entry.video_id = stored.video_id
            if stored.in_flight:
                return responses.v3_error(
                    409,
                    "request_in_progress",
                    f"A request with this {idempotency.HEADER} is still in progress; retry once it has finished",
                    param=idempotency.HEADER,
                )
            entry.idempotent_replay = True
            return stored.replay()
        answer = run()
        if 200 <= answer.status < 300 and answer.disconnect is None:
            self.app.kept_answer = self.app.idempotency.keep(scope, answer, entry.video_id, now)
        return answer

    # Videos -------------------------------------------------------------------------------------

    def create_video(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float, _: str
    ) -> HttpResponse:
        """``POST /v3/videos``."""
        parsed = self.app.parse_create(
            request, lambda body, settings: validate_create_v3(body, settings, self.asset_exists)
        )

        def answer(job: VideoJob) -> HttpResponse:
            data = {"video_id": job.video_id, "status": "waiting", "output_format": job.request.output_format}
            return responses.v3_success(data)

        return self._make_video(parsed, entry, render_fault, now, answer)

    def _make_video(
        self,
        parsed: Any,
        entry: LoggedRequest,
        render_fault: str | None,
        now: float,
        answer: Callable[[VideoJob], HttpResponse],
    ) -> HttpResponse:
        """A video from a parsed create request of any v3 create endpoint, or why it is refused."""
        if isinstance(parsed, Rejection):
            raise parsed
        if self.app.store.remaining_quota <= 0:
            return responses.v3_error(402, "insufficient_credit", "Insufficient credit to create this video")
        if not self.app.store.slot_free(now):
            # v3 refuses a job beyond the plan's concurrency instead of queueing it: nothing is created
            # or charged, and the Idempotency-Key is not kept (only 2xx answers are).
            return self._slots_taken()
        render, magic = parsed
        return self.app.make_video(render, magic, entry, render_fault=render_fault, now=now, answer=answer, v3=True)

    def _slots_taken(self) -> HttpResponse:
        """HTTP 429 ``rate_limit_exceeded`` with ``Retry-After``, as HeyGen answers a job beyond the plan's limit."""
        settings = self.app.settings
        retry_after = settings.slot_retry_after_seconds
        return responses.v3_error(
            429,
            "rate_limit_exceeded",
            f"Too many concurrent video jobs: this account renders at most {settings.limits.concurrent_renders} "
            f"at once. Retry after {retry_after} seconds.",
            headers=[("Retry-After", str(retry_after))],
        )

    def _job(self, video_id: str, entry: LoggedRequest) -> VideoJob:
        entry.video_id = video_id
        job = self.app.store.jobs.get(video_id)
        if job is None:
            raise Rejection(f"Video {video_id} not found", code="video_not_found", http_status=404, param="video_id")
        return job

    def get_video(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float, video_id: str
    ) -> HttpResponse:
        """``GET /v3/videos/{video_id}``."""
        job = self._job(video_id, entry)
        return self.app.poll(job, entry, now, lambda: responses.v3_success(self.video(job, now)), v3=True)

    def delete_video(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float, video_id: str
    ) -> HttpResponse:
        """``DELETE /v3/videos/{video_id}``: the video, its media and its status are gone."""
        self._job(video_id, entry)
        self.app.store.delete(video_id)
        return responses.v3_success({"id": video_id, "deleted": True})

    def list_videos(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float, _: str
    ) -> HttpResponse:
        """``GET /v3/videos``: newest first; ``limit`` (1-100), ``token``, ``title`` and ``folder_id`` filters."""
        title = request.query.get("title")
        # The emulator files no video in a folder: a folder filter finds nothing but the root.
        in_folder = bool(request.query.get("folder_id"))
        jobs = [
            job
            for job in reversed(self.app.store.jobs.values())
            if not in_folder and (not title or title.lower() in (job.request.title or "").lower())
        ]
        return paginate(request.query, [(-job.sequence, self.video(job, now)) for job in jobs], 100, 10)

    def video(self, job: VideoJob, now: float) -> dict[str, Any]:
        """A video as ``GET /v3/videos/{id}`` and ``GET /v3/videos`` show it (schema ``VideoGet``).

        :param job: the video.
        :param now: the emulator's time.
        """
        status = job.status_at(now)
        completed = status == "completed"
        urls = self.app.media_urls(job, now) if completed else {}
        error = job.outcome.error if status == "failed" else None
        return {
            "id": job.video_id,
            "title": job.request.title,
            "status": DETAIL_STATUSES.get(status, status),
            "video_url": urls.get("video_url"),
            "captioned_video_url": urls.get("video_url_caption"),
            "subtitle_url": urls.get("caption_url"),
            "thumbnail_url": urls.get("thumbnail_url"),
            "gif_url": urls.get("gif_url"),
            "video_page_url": f"{self.app.base_url}/videos/{job.video_id}" if completed else None,
            "duration": job.request.duration_seconds if completed else None,
            "created_at": int(job.created_at),
            "completed_at": int(job.finished_at) if status in TERMINAL else None,
            "failure_code": None if error is None else str(error["code"]),
            "failure_message": None if error is None else error["message"],
            "folder_id": None,
            "output_language": None,
        }

    def bulk_statuses(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float, _: str
    ) -> HttpResponse:
        """``GET /v3/videos/statuses?video_ids=a,b&batch_ids=c``: up to 100 ids, unknown ones ``not_found``."""
        video_ids, batch_ids = _ids(request.query.get("video_ids")), _ids(request.query.get("batch_ids"))
        entry.bulk_ids = video_ids + batch_ids
        if not entry.bulk_ids:
            raise Rejection("video_ids or batch_ids is required", param="video_ids")
        if len(entry.bulk_ids) > MAX_BULK_IDS:
            raise Rejection(
                f"at most {MAX_BULK_IDS} ids per request; got {len(entry.bulk_ids)}",
                param="video_ids" if video_ids else "batch_ids",
            )
        items = [self._bulk_item(video_id, now) for video_id in video_ids]
        # The emulator makes no batches (POST /v3/videos/batches), so no batch id is known.
        items += [_bulk_entry(None, "not_found", batch_id=batch_id) for batch_id in batch_ids]
        return responses.v3_page(items, None)

    def _bulk_item(self, video_id: str, now: float) -> dict[str, Any]:
        job = self.app.store.jobs.get(video_id)
        if job is None:
            return _bulk_entry(video_id, "not_found")
        status = job.status_at(now)
        error = job.outcome.error if status == "failed" else None
        shown = None if error is None else {"code": str(error["code"]), "message": error["message"]}
        return _bulk_entry(video_id, BULK_STATUSES.get(status, status), shown)

    # Templates ----------------------------------------------------------------------------------

    def _template(self, template_id: str) -> dict[str, Any]:
        template = templates.find_template(template_id, self.app.base_url)
        if template is None:
            raise Rejection(
                f"Template {template_id} not found", code="template_not_found", http_status=404, param="template_id"
            )
        return template

    def list_templates(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float, _: str
    ) -> HttpResponse:
        """``GET /v3/templates``; ``limit`` 1-100."""
        return paginate(request.query, list(enumerate(templates.list_templates(self.app.base_url))), 100, 100)

    def get_template(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float, template_id: str
    ) -> HttpResponse:
        """``GET /v3/templates/{template_id}``: its variables (with defaults) and scenes; 404 when unknown."""
        return responses.v3_success(self._template(template_id))

    def generate_from_template(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float, template_id: str
    ) -> HttpResponse:
        """``POST /v3/templates/{template_id}``: a video from the template's scenes with the given variables."""
        template = self._template(template_id)

        def validate(body: object, _settings: object) -> Any:
            problem = schema.request_problem("TemplateGenerate", body)
            if problem is not None:
                raise Rejection(problem.message, param=problem.param)
            assert isinstance(body, dict)  # the schema requires an object
            return templates.validate_template_generate(template, body)

        parsed = self.app.parse_create(request, validate)
        created = lambda job: responses.v3_success(self.video(job, now))  # noqa: E731 - the video, as HeyGen answers
        return self._make_video(parsed, entry, render_fault, now, created)

    # Account and catalogue ----------------------------------------------------------------------

    def me(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float, _: str
    ) -> HttpResponse:
        """``GET /v3/users/me``: a wallet for API keys, a subscription for OAuth tokens, as HeyGen bills them."""
        settings = self.app.settings
        quota = max(0.0, self.app.store.remaining_quota)
        credits = int(quota // SECONDS_PER_CREDIT)
        data: dict[str, Any] = {**self.app.user(), "wallet": None, "subscription": None, "usage_based": None}
        del data["plan"]
        if entry.credential == "bearer":
            data["billing_type"] = "subscription"
            data["subscription"] = {
                "plan": SUBSCRIPTION_PLANS[settings.plan],
                "credits": {
                    "premium_credits": {"remaining": credits, "resets_at": None},
                    "add_on_credits": {"remaining": 0, "resets_at": None},
                },
            }
        else:
            enterprise = settings.plan == "enterprise"
            data["billing_type"] = "wallet"
            data["wallet"] = {
                "currency": "credits" if enterprise else "usd",
                "remaining_balance": credits if enterprise else round(quota * USD_PER_SECOND, 2),
                "auto_reload": {"enabled": False, "amount_usd": None, "threshold_usd": None},
            }
        return responses.v3_success(data)

    def voices(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float, _: str
    ) -> HttpResponse:
        """``GET /v3/voices``; filters ``type``, ``language``, ``gender``; ``limit`` 1-100."""
        items = _filtered(catalogue.v3_voices(), request.query, ("type", "language", "gender"))
        return paginate(request.query, items, 100, 100)

    def looks(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float, _: str
    ) -> HttpResponse:
        """``GET /v3/avatars/looks``; filters ``group_id``, ``avatar_type``, ``ownership``; ``limit`` 1-50."""
        looks = catalogue.v3_looks(self.app.base_url)
        if request.query.get("ownership") == "private":
            looks = []  # every look in the catalogue is a public preset
        return paginate(request.query, _filtered(looks, request.query, ("group_id", "avatar_type")), 50, 50)

    def avatar_groups(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float, _: str
    ) -> HttpResponse:
        """``GET /v3/avatars``: avatar groups; filter ``ownership``; ``limit`` 1-50."""
        groups = [] if request.query.get("ownership") == "private" else catalogue.v3_avatar_groups(self.app.base_url)
        return paginate(request.query, list(enumerate(groups)), 50, 50)

    # Assets -------------------------------------------------------------------------------------

    def asset_exists(self, asset_id: str, kind: str) -> bool:
        """Whether ``asset_id`` is a completed asset of ``kind`` (``image``, ``audio``, ...).

        :param asset_id: the id.
        :param kind: what the request uses it as.
        """
        asset = self.app.assets.assets.get(asset_id)
        return asset is not None and asset.status == "completed" and asset.kind == kind

    def asset_url(self, asset: Asset) -> str:
        """The public URL of an asset's bytes, served by the emulator."""
        return f"{self.app.base_url}{ASSET_MEDIA_PREFIX}{asset.asset_id}.{assets.EXTENSIONS[asset.mime_type]}"

    def _asset_data(self, asset: Asset, with_status: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "asset_id": asset.asset_id,
            "url": self.asset_url(asset),
            "mime_type": asset.mime_type,
            "size_bytes": asset.size_bytes,
        }
        if with_status:
            data["status"] = asset.status
        return data

    def upload_asset(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float, _: str
    ) -> HttpResponse:
        """``POST /v3/assets``: multipart field ``file``, at most 32 MB, its type found from its bytes."""
        upload = request.part("file")
        if upload is None:
            raise Rejection("a multipart/form-data body with a file field is required", param="file")
        if len(upload.data) > assets.ASSET_MAX_BYTES:
            return responses.v3_error(
                413,
                "payload_too_large",
                f"file is {len(upload.data)} bytes; at most {assets.ASSET_MAX_BYTES} (32 MB) may be uploaded here. "
                "Use POST /v3/assets/direct-uploads for larger files.",
                param="file",
            )
        mime_type = assets.sniff(upload.data[: assets.HEAD_BYTES])
        if mime_type is None:
            raise Rejection("unsupported file type: upload png, jpeg, mp4, webm, mp3, wav, pdf or srt", param="file")
        asset = self.app.assets.add(upload.filename or "upload", upload.data, mime_type, now)
        return responses.v3_success(self._asset_data(asset, with_status=False))

    def direct_upload(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float, _: str
    ) -> HttpResponse:
        """``POST /v3/assets/direct-uploads``: reserve an asset and a signed ``upload_url`` on the emulator."""
        body = _json_body(request, "AssetDirectUploadsCreate")
        content_type = assets.canonical_type(body["content_type"])
        if content_type is None:
            supported = ", ".join(assets.SUPPORTED_TYPES)
            raise Rejection(
                f"content_type {body['content_type']!r} is not supported: use one of {supported}", param="content_type"
            )
        size = body["size_bytes"]
        if not 1 <= size <= assets.DIRECT_UPLOAD_MAX_BYTES:
            raise Rejection(
                f"size_bytes must be from 1 to {assets.DIRECT_UPLOAD_MAX_BYTES}; got {size}", param="size_bytes"
            )
        checksum = body.get("checksum_sha256")
        if checksum is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", checksum):
            raise Rejection("checksum_sha256 must be 64 hex digits", param="checksum_sha256")
        asset = self.app.assets.reserve(body["filename"], content_type, size, now)
        asset.declared_sha256 = checksum.lower() if checksum else None
        expires = int(asset.upload_expires_at or now)
        data = {
            "asset_id": asset.asset_id,
            "upload_url": self.app.base_url + self.app.signer.sign(UPLOAD_PREFIX + asset.asset_id, expires),
            "upload_headers": {"Content-Type": content_type},
            "expires_in_seconds": assets.UPLOAD_URL_SECONDS,
            "max_bytes": size,
            "status": asset.status,
        }
        return responses.v3_success(data)

    def complete_asset(
        self, request: HttpRequest, entry: LoggedRequest, render_fault: str | None, now: float, asset_id: str
    ) -> HttpResponse:
        """``POST /v3/assets/{asset_id}/complete``: idempotent; the bytes must be what was declared."""
        body = _json_body(request, "AssetCompleteCreate") if request.body else {}
        asset = self.app.assets.assets.get(asset_id)
        if asset is None:
            raise Rejection(f"Asset {asset_id} not found", code="asset_not_found", http_status=404, param="asset_id")
        if asset.status == "pending_upload":
            raise Rejection(f"nothing was uploaded to asset {asset_id}'s upload_url yet", param="asset_id")
        checksum = body.get("checksum_sha256")
        if checksum and checksum.lower() != asset.sha256:
            raise Rejection("checksum_sha256 does not match the uploaded bytes", param="checksum_sha256")
        if asset.status == "uploaded":
            found = assets.sniff(asset.head)
            if found != asset.mime_type:
                raise Rejection(
                    f"the uploaded bytes are {found or 'of no supported type'}, not the declared {asset.mime_type}",
                    param="content_type",
                )
            asset.status = "completed"
        return responses.v3_success(self._asset_data(asset, with_status=True))

    # The direct-upload target -------------------------------------------------------------------

    def open_upload(self, request: HttpRequest, entry: LoggedRequest, now: float) -> HttpResponse | AssetWriter:
        """Start receiving a ``PUT`` to an ``upload_url``, or refuse it as S3 would.

        The URL's signature is the credential, as with a presigned S3 URL: no API key is needed, and
        one sent anyway is only noted (the request log's ``credential``, the asset's
        ``upload_credential``).

        :param request: the request, its body not read yet.
        :param entry: its request-log entry.
        :param now: the emulator's time.
        """
        if request.method != "PUT":
            return media.s3_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        refusal = self.app.signer.refusal(request.path, request.query, now)
        if refusal is not None:
            return refusal
        match = UPLOAD_PATH.match(request.path)
        asset = self.app.assets.assets.get(match.group(1)) if match else None
        if asset is None or asset.source != "direct_upload":
            return media.s3_error(404, "NoSuchUpload", "The specified upload does not exist.")
        if asset.status == "completed":
            return media.s3_error(403, "AccessDenied", "This upload has already been completed.")
        if assets.canonical_type(request.headers.get("content-type")) != asset.mime_type:
            return media.s3_error(
                403,
                "SignatureDoesNotMatch",
                f"The request signature we calculated does not match: send Content-Type: {asset.mime_type}",
            )
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > (asset.declared_size or 0):
            return _too_large(asset)
        return AssetWriter(asset)

    def finish_upload(self, writer: AssetWriter, entry: LoggedRequest) -> HttpResponse:
        """The answer to an upload ``PUT`` once its body has been read.

        :param writer: what received the body.
        :param entry: its request-log entry.
        """
        writer.close()
        asset = writer.asset
        if writer.too_large:
            return _too_large(asset)
        if writer.received < (asset.declared_size or 0):
            return media.s3_error(
                400,
                "IncompleteBody",
                f"You did not provide the number of bytes specified: {writer.received} of {asset.declared_size}",
            )
        if asset.declared_sha256 is not None and asset.declared_sha256 != writer.sha256:
            return media.s3_error(400, "BadDigest", "The SHA-256 you specified did not match what we received.")
        self.app.assets.stored(writer, entry.credential)
        return HttpResponse(200, b"", content_type="application/xml", headers=[("ETag", writer.etag)])


def _bulk_entry(
    video_id: str | None, status: str, error: dict[str, Any] | None = None, batch_id: str | None = None
) -> dict[str, Any]:
    return {"video_id": video_id, "status": status, "error": error, "batch_id": batch_id, "item_index": None}


def _too_large(asset: Asset) -> HttpResponse:
    return media.s3_error(
        400, "EntityTooLarge", f"Your proposed upload exceeds the declared size of {asset.declared_size} bytes"
    )


def _json_body(request: HttpRequest, operation: str) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise Rejection("the request body must be JSON") from None
    problem = schema.request_problem(operation, body)
    if problem is not None:
        raise Rejection(problem.message, param=problem.param)
    if not isinstance(body, dict):
        raise Rejection("the request body must be a JSON object")
    return body
