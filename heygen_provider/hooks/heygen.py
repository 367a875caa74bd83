"""
:class:`HeyGenHook`: every call this provider makes to HeyGen.

Sync calls (workers) go through one pooled :class:`requests.Session` per hook. Async calls (the
triggerer) go through one :class:`aiohttp.ClientSession` per event loop and connection id, shared by
every trigger in the process (:mod:`heygen_provider.hooks.cache`). Both paths use the same
connection settings, retry policy, error parser and models.

``requests`` is imported inside the sync calls, the one function-level import here: the triggerer
imports this module and waits with ``aiohttp`` alone, so it never loads a second HTTP client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import aiohttp
from airflow.sdk import BaseHook
from pydantic import ValidationError

from heygen_provider.connection import (
    DEFAULT_CONN_ID,
    HeyGenConnectionSettings,
    ui_field_behaviour_for_hook,
)
from heygen_provider.exceptions import (
    HeyGenAnswerTooLargeError,
    HeyGenAPIError,
    HeyGenAuthenticationError,
    HeyGenConnectionError,
    HeyGenError,
    HeyGenMalformedResponseError,
    HeyGenNotFoundError,
)
from heygen_provider.hooks import cache
from heygen_provider.hooks.assets import create_body, upload_images, upload_photos, with_asset_ids
from heygen_provider.hooks.calls import (
    ANSWER_CHUNK_BYTES,
    MAX_ANSWER_BYTES,
    MAX_TRIGGERER_ANSWER_BYTES,
    CappedBody,
    describe_failure,
    final_error,
    read_answer,
    transport_error,
)
from heygen_provider.hooks.download import DEFAULT_CHUNK_SIZE, download_media
from heygen_provider.idempotency import IDEMPOTENCY_KEY as IDEMPOTENCY_KEY  # noqa: PLC0414 (re-exported: users import it here)
from heygen_provider.idempotency import IDEMPOTENCY_KEY_MAX_LENGTH as IDEMPOTENCY_KEY_MAX_LENGTH  # noqa: PLC0414
from heygen_provider.idempotency import check_idempotency_key as check_idempotency_key  # noqa: PLC0414
from heygen_provider.models import CreatedVideo, VideoGenerateRequest, VideoStatusResponse
from heygen_provider.models.status import bulk_statuses
from heygen_provider.models.template import Template
from heygen_provider.retry import RetryPolicy, RetryState, TransportFailure

#: Pages a listing is read to at most (50 looks or 100 voices a page): a bound on a cursor that never ends.
MAX_LIST_PAGES = 200

if TYPE_CHECKING:
    import requests
    from airflow.sdk import ObjectStoragePath

    from heygen_provider.hooks.download import DownloadResult
    from heygen_provider.models import AvatarList, RemainingQuota, VoiceList


class HeyGenHook(BaseHook):
    """
    Talk to the HeyGen API with the ``heygen`` connection.

    The connection keeps the API key in its password field; ``host`` may override the base URL
    (default ``https://api.heygen.com``; ``http://`` only for loopback) and the extras may set
    ``request_timeout``, ``retry_attempts`` and ``auth_type`` (``api_key`` or ``bearer``).

    :param heygen_conn_id: the Airflow connection id.
    :param retry_policy: the retry policy of every call; by default the connection's
        (``retry_attempts`` attempts). The trigger passes one attempt per poll.
    """

    conn_name_attr = "heygen_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "heygen"
    hook_name = "HeyGen"

    def __init__(
        self,
        heygen_conn_id: str = DEFAULT_CONN_ID,
        *,
        retry_policy: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.heygen_conn_id = heygen_conn_id
        self.retry_policy = retry_policy

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Connection form customisation for Airflow 3.1 (3.2+ reads ``get_provider_info``)."""
        return ui_field_behaviour_for_hook()

    # -- settings -------------------------------------------------------------------------------------

    @property
    def settings(self) -> HeyGenConnectionSettings:
        """The validated connection, from the settings cache both paths share."""
        return cache.cached_settings(self.heygen_conn_id, self._lookup_settings)

    def _lookup_settings(self) -> HeyGenConnectionSettings:
        return _settings_from(self.heygen_conn_id, self.get_connection(self.heygen_conn_id))

    def _start(
        self, settings: HeyGenConnectionSettings, method: str, *, idempotent: bool | None, create: bool = False
    ) -> RetryState:
        return (self.retry_policy or settings.retry_policy).start(method, idempotent=idempotent, create=create)

    def _delay_or_raise(self, retry: RetryState, error: HeyGenError, path: str) -> float:
        """Seconds to wait before the next attempt after ``error``, as the policy decides; or raise it."""
        delay = retry.delay_after(error)
        if delay is None:
            if isinstance(error, HeyGenAuthenticationError):
                # A revoked or fixed key: the next call must read the connection again, not the cache.
                cache.forget_settings(self.heygen_conn_id)
            raise final_error(error, retry)
        self.log.warning("HeyGen %s %s: retrying in %.1f s", retry.method, path, delay)
        return delay

    # -- sync -----------------------------------------------------------------------------------------

    def get_conn(self) -> requests.Session:
        """The hook's pooled HTTP session (created on first use)."""
        return self._session

    @cached_property
    def _session(self) -> requests.Session:
        import requests

        session = requests.Session()
        session.headers.update(self.settings.session_headers)
        return session

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        body: Callable[[], Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        timeout: float | None = None,
        envelope: bool = False,
        create: bool = False,
    ) -> Any:
        """
        One API call with the retry policy.

        :param body: makes a fresh request body (a stream) for each attempt, instead of ``json_body``.
        :param headers: headers besides authentication (e.g. ``Idempotency-Key``).
        :param idempotent: sending the request twice does the work once (default: by method).
        :param timeout: seconds allowed for the answer, instead of the connection's request timeout.
        :param envelope: return the whole answer object, not its ``data`` (a listing's paging fields).
        :param create: the call asks for a render: a refusal for want of a render slot is raised at once
            (:class:`~heygen_provider.retry.RetryPolicy`), for the operator to wait for a slot.
        """
        import requests

        settings = self.settings
        retry = self._start(settings, method, idempotent=idempotent, create=create)
        read_timeout = timeout or settings.request_timeout
        while True:
            # The timeout bounds the whole answer, as on the async path: requests' read timeout bounds
            # each socket read only, so a server dripping a byte at a time could hold a worker for ever.
            deadline = time.monotonic() + read_timeout
            try:
                response = self._session.request(
                    method,
                    settings.url(path),
                    params=params,
                    json=json_body,
                    data=body() if body is not None else None,
                    headers={**(headers or {}), **settings.auth_headers},
                    timeout=(settings.connect_timeout, read_timeout),
                    # A redirect would carry the key to whatever host it names: never followed.
                    allow_redirects=False,
                    stream=True,
                )
                answer = CappedBody(response.status_code, response.headers, MAX_ANSWER_BYTES, f"{method} {path}")
                content = _read_before(response, answer, deadline, read_timeout)
                return read_answer(response.status_code, content, response.headers, settings.secrets, envelope=envelope)
            except requests.RequestException as failure:
                error: HeyGenError = transport_error(method, _requests_failure(failure), describe_failure(failure))
            except HeyGenAPIError as answer_error:
                error = settings.api.explain(answer_error, path)
            except HeyGenError as other_error:
                error = other_error
            time.sleep(self._delay_or_raise(retry, error, path))

    def post(
        self,
        path: str,
        *,
        json_body: Any = None,
        body: Callable[[], Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """
        One ``POST`` with the retry policy: the transport of the photo uploads
        (:class:`~heygen_provider.hooks.assets.AssetTransport`).

        :param body: makes a fresh request body (a stream) for each attempt, instead of ``json_body``.
        :param headers: headers besides authentication (e.g. ``Idempotency-Key``).
        :param idempotent: sending the request twice does the work once (default: by method).
        """
        return self._request("POST", path, json_body=json_body, body=body, headers=headers, idempotent=idempotent)

    def request_body(self, request: VideoGenerateRequest) -> dict[str, Any]:
        """
        The create call's body for ``request`` in the connection's API version; no HTTP call.

        :raises HeyGenRequestValidationError: naming each field the API version cannot express.
        """
        return self.settings.api.request_body(request)

    def create_video(
        self, request: VideoGenerateRequest | Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> CreatedVideo:
        """
        Submit a render. Paid.

        On v3 the create carries ``idempotency_key`` (when given), so a create that timed out, got a 5xx
        or a 409 ``request_in_progress`` is sent again with the same key and HeyGen renders once. On the
        legacy API, or without a key, the POST is never re-sent once it may have reached HeyGen.

        :param request: a validated request, or its parameters (validated here, before any HTTP call).
            An ``image_path`` still in it is uploaded first (:meth:`upload_images`).
        :param idempotency_key: 1 to 255 characters of ``[A-Za-z0-9_:.-]``, the same for every attempt
            of the same render.
        :raises HeyGenRequestValidationError: before any HTTP call, when the request (or the key) breaks a rule.
        :raises HeyGenMalformedResponseError: when HeyGen answered 2xx without a usable ``video_id``.
        """
        check_idempotency_key(idempotency_key)
        if not isinstance(request, VideoGenerateRequest):
            request = VideoGenerateRequest.from_params(request)
        body, photos = create_body(self.settings.api, request)  # every field checked before any call
        # The photos become HeyGen assets: the body names their asset ids.
        assets = upload_photos(self, photos, {}, idempotency_key)
        return self.create_video_from_body(with_asset_ids(body, photos, assets), idempotency_key=idempotency_key)

    def create_video_from_body(self, body: Mapping[str, Any], *, idempotency_key: str | None = None) -> CreatedVideo:
        """
        Submit a create body already in the connection's API version (:meth:`request_body`), its photos
        HeyGen assets already. Paid; sent and retried as :meth:`create_video` is.

        :raises HeyGenRequestValidationError: before any call, when ``idempotency_key`` breaks HeyGen's rule.
        :raises HeyGenMalformedResponseError: when HeyGen answered 2xx without a usable ``video_id``.
        """
        check_idempotency_key(idempotency_key)
        api = self.settings.api
        return self._create(api.create_video, dict(body), idempotency_key if api.idempotent_creates else None)

    def get_template(self, template_id: str) -> Template:
        """
        A template's variables (with their defaults) and scenes: ``GET /v3/templates/{template_id}``. Free.

        :raises HeyGenConnectionError: on a ``legacy`` connection, before any call.
        :raises HeyGenNotFoundError: when HeyGen knows no such template.
        """
        return Template.from_answer(template_id, self._request("GET", self._template_path(template_id)))

    def create_template_video(
        self, template_id: str, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> CreatedVideo:
        """
        Render a template: ``POST /v3/templates/{template_id}``. Paid.

        Sent and retried as :meth:`create_video` is: with ``idempotency_key`` a create that timed out or
        got a 5xx is sent again with the same key, and HeyGen renders once.

        :param body: the generate call's body (``variables``, ``title``, ...), checked by the caller;
            :class:`~heygen_provider.operators.template.HeyGenTemplateVideoOperator` checks the variables
            against :meth:`get_template` first.
        :raises HeyGenConnectionError: on a ``legacy`` connection, before any call.
        :raises HeyGenRequestValidationError: before any call, when ``idempotency_key`` breaks HeyGen's rule.
        :raises HeyGenMalformedResponseError: when HeyGen answered 2xx without a usable video id.
        """
        check_idempotency_key(idempotency_key)
        return self._create(self._template_path(template_id), dict(body), idempotency_key)

    def _template_path(self, template_id: str) -> str:
        settings = self.settings
        try:
            return settings.api.template_path(template_id)
        except ValueError:
            raise HeyGenConnectionError(
                f"HeyGen templates need HeyGen's v3 API, but connection {self.heygen_conn_id!r} uses "
                f"api_version {settings.api_version!r}: set its extra api_version to 'v3' (the default)"
            ) from None

    def _create(self, path: str, body: dict[str, Any], idempotency_key: str | None) -> CreatedVideo:
        """One paid create call; keyed (and so safe to re-send) only when ``idempotency_key`` is given."""
        try:
            data = self._request(
                "POST",
                path,
                json_body=body,
                headers={"Idempotency-Key": idempotency_key} if idempotency_key else None,
                idempotent=idempotency_key is not None,
                timeout=self.settings.create_timeout,
                create=True,
            )
        except HeyGenAPIError as error:
            if error.http_status is None or error.http_status >= 300:
                raise
            # An error envelope inside a 2xx, or a 2xx too long to read: HeyGen may well have created the video.
            what = "too long to read" if isinstance(error, HeyGenAnswerTooLargeError) else "with an error in it"
            raise HeyGenMalformedResponseError(
                f"the create answer is a 2xx {what}: {error.message}", status_code=error.http_status
            ) from error
        try:
            return CreatedVideo.model_validate(data)
        except ValidationError:
            shown = (data.get("video_id") or data.get("id")) if isinstance(data, dict) else data
            raise HeyGenMalformedResponseError(
                f"the create answer carries no usable video_id (got {type(shown).__name__} {str(shown)[:40]!r})",
                status_code=200,
            ) from None

    def upload_images(
        self,
        request: VideoGenerateRequest,
        *,
        uploaded: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[VideoGenerateRequest, dict[str, str]]:
        """
        Upload every character ``image_path`` of ``request`` to HeyGen (v3 ``POST /v3/assets``).

        :param uploaded: ``image_path`` to asset id of earlier uploads (an earlier try's), not sent again.
        :param idempotency_key: the render's key; each upload derives its own from it.
        :returns: the request with ``image_asset_id`` in place of each ``image_path``, and every
            ``image_path`` to asset id mapping (earlier ones included).
        :raises HeyGenRequestValidationError: when a file is missing or not a JPEG or PNG, before any upload.
        """
        return upload_images(self, request, uploaded or {}, idempotency_key)

    def get_video_status(self, video_id: str) -> VideoStatusResponse:
        """The render's status, with fresh signed media URLs once it is done."""
        path, params = self.settings.api.status_request(video_id)
        return _status_from(video_id, self._request("GET", path, params=params))

    def delete_video(self, video_id: str) -> bool:
        """
        Delete a video, finished or still rendering: ``DELETE /v3/videos/{video_id}``. HeyGen has no
        other way to stop a render, and does not say whether deleting one in progress stops its billing.

        Safe to send again (retried by the retry policy like a GET): a video already gone answers 404.

        :returns: ``True`` when HeyGen deleted the video now, ``False`` when it had no such video (any more).
        :raises HeyGenConnectionError: on a ``legacy`` connection, before any call.
        """
        try:
            self._request("DELETE", self._video_path(self.settings, video_id))
        except HeyGenNotFoundError:
            return False
        return True

    def _video_path(self, settings: HeyGenConnectionSettings, video_id: str) -> str:
        try:
            return settings.api.video_path(video_id)
        except ValueError:
            raise HeyGenConnectionError(
                f"Deleting a HeyGen video needs HeyGen's v3 API, but connection {self.heygen_conn_id!r} uses "
                f"api_version {settings.api_version!r}: the legacy API cannot delete or cancel a render here. "
                "Set its extra api_version to 'v3' (the default)"
            ) from None

    def list_avatars(self) -> AvatarList:
        """The account's avatars (on v3, its avatar looks: a look's id is an ``avatar_id``), every page."""
        api = self.settings.api
        return api.avatars_from(self._listing(api.avatars))

    def list_voices(self) -> VoiceList:
        """The voices the account may use, every page."""
        api = self.settings.api
        return api.voices_from(self._listing(api.voices))

    def _listing(self, path: str) -> Any:
        """
        A list call's ``data``; on an API version that pages, every page's items in order.

        v3 answers ``{"data": [...], "has_more", "next_token"}`` and gives the next page for
        ``token=<next_token>``; the first page alone would leave out most of HeyGen's public looks and voices.
        """
        if not self.settings.api.paged_lists:
            return self._request("GET", path)
        items: list[Any] = []
        seen: set[str] = set()
        token: str | None = None
        while True:
            page = self._request("GET", path, params={"token": token} if token else None, envelope=True)
            data = page.get("data", page) if isinstance(page, dict) else page
            if not isinstance(data, list) or not isinstance(page, dict):
                # Not a listing: the models judge the odd answer, as on an unpaged call; pages read so far are kept.
                return items or data
            items.extend(data)
            token = page.get("next_token")
            # A cursor seen before would loop for ever; HeyGen's cursors only move forward.
            if not page.get("has_more") or not isinstance(token, str) or not token or token in seen:
                return items
            if len(seen) >= MAX_LIST_PAGES:
                self.log.warning("HeyGen %s: stopped after %d pages", path, MAX_LIST_PAGES)
                return items
            seen.add(token)

    def get_remaining_quota(self) -> RemainingQuota:
        """What the account has left (``GET /v3/users/me`` on v3, ``/v2/user/remaining_quota`` on legacy)."""
        api = self.settings.api
        return api.account_from(self._request("GET", api.account))

    def download_media(
        self,
        url: str,
        destination: ObjectStoragePath,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        video_id: str | None = None,
    ) -> DownloadResult:
        """
        Stream a media URL from a status answer to ``destination``, atomically and in constant memory.

        The request carries no API key: media live on HeyGen's CDN, not on the API host.

        :param video_id: the video the media belong to: ``destination`` holding another video's file (or
            a file no download of this video stored) is refused with
            :class:`~heygen_provider.exceptions.HeyGenDownloadConflictError`, before any byte is fetched.

        :raises MediaUrlExpired: when the signed URL has expired; ask :meth:`get_video_status` for a
            fresh one.
        """
        settings = self.settings
        return download_media(
            self._session,
            url,
            destination,
            retry_policy=self.retry_policy or settings.retry_policy,
            timeout=(settings.connect_timeout, settings.request_timeout),
            chunk_size=chunk_size,
            video_id=video_id,
        )

    def test_connection(self) -> tuple[bool, str]:
        """
        One cheap, unpaid GET of what the account has left (``GET /v3/users/me`` on v3); what Airflow's
        Test button, ``airflow connections test`` and ``POST /api/v2/connections/test`` call.

        :returns: ``(ok, message)``, e.g. ``(True, "Connected to HeyGen (v3): 66,692.60 USD of credit
            remaining")``; never raises.
        """
        try:
            quota = self.get_remaining_quota()
            api_version = self.settings.api_version
        except Exception as error:
            return False, str(error)
        return True, f"Connected to HeyGen ({api_version}): {quota.describe()}"

    # -- async (triggerer) ----------------------------------------------------------------------------

    async def aget_settings(self) -> HeyGenConnectionSettings:
        """The validated connection, looked up without blocking the event loop, from the shared cache."""
        return await cache.acached_settings(self.heygen_conn_id, self._alookup_settings)

    async def _alookup_settings(self) -> HeyGenConnectionSettings:
        connection = await self.aget_connection(self.heygen_conn_id)
        return _settings_from(self.heygen_conn_id, connection)

    async def _arequest(
        self,
        method: str,
        path: str,
        *,
        settings: HeyGenConnectionSettings,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        session = cache.shared_session(self.heygen_conn_id, settings.session_headers)
        retry = self._start(settings, method, idempotent=None)
        timeout = aiohttp.ClientTimeout(total=settings.request_timeout, sock_connect=settings.connect_timeout)
        while True:
            try:
                async with session.request(
                    method,
                    settings.url(path),
                    params=params,
                    headers=settings.auth_headers,
                    timeout=timeout,
                    # A redirect would carry the key to whatever host it names: never followed.
                    allow_redirects=False,
                ) as response:
                    answer = CappedBody(
                        response.status, response.headers, MAX_TRIGGERER_ANSWER_BYTES, f"{method} {path}"
                    )
                    # Chunk by chunk up to the cap: an answer of any size neither fills the triggerer's
                    # memory nor stalls its event loop, and only a capped answer is ever parsed.
                    while answer.wanted and (chunk := await response.content.read(ANSWER_CHUNK_BYTES)):
                        answer.add(chunk)
                    if answer.cut:
                        response.close()  # the rest is never read: the connection is not reused
                    content = answer.content()
                return read_answer(response.status, content, response.headers, settings.secrets)
            except (aiohttp.ClientError, asyncio.TimeoutError) as failure:
                error: HeyGenError = transport_error(method, _aiohttp_failure(failure), describe_failure(failure))
            except HeyGenAPIError as answer_error:
                error = settings.api.explain(answer_error, path)
            except HeyGenError as other_error:
                error = other_error
            await asyncio.sleep(self._delay_or_raise(retry, error, path))

    async def aget_video_status(self, video_id: str) -> VideoStatusResponse:
        """Async :meth:`get_video_status`, for triggers: never blocks the event loop."""
        settings = await self.aget_settings()
        path, params = settings.api.status_request(video_id)
        return _status_from(video_id, await self._arequest("GET", path, settings=settings, params=params))

    async def adelete_video(self, video_id: str) -> bool:
        """Async :meth:`delete_video`, for triggers: never blocks the event loop."""
        settings = await self.aget_settings()
        try:
            await self._arequest("DELETE", self._video_path(settings, video_id), settings=settings)
        except HeyGenNotFoundError:
            return False
        return True

    async def aget_video_statuses(self, video_ids: Sequence[str]) -> dict[str, VideoStatusResponse]:
        """
        The statuses of up to 100 videos in one call (v3's bulk status endpoint), for the triggers' shared
        poller. The answer carries no URLs: ask :meth:`aget_video_status` about a video that has ended.

        :returns: a status per id the answer reported readably; ids it left out are missing.
        :raises ValueError: when the connection's API version has no bulk call (``legacy``).
        """
        settings = await self.aget_settings()
        path, params = settings.api.bulk_status_request(video_ids)
        return bulk_statuses(await self._arequest("GET", path, settings=settings, params=params), video_ids)


def _settings_from(conn_id: str, connection: Any) -> HeyGenConnectionSettings:
    return HeyGenConnectionSettings.from_connection(
        conn_id,
        host=connection.host,
        password=connection.password,
        port=connection.port,
        extra=connection.extra,
    )


def _status_from(video_id: str, data: Any) -> VideoStatusResponse:
    if not isinstance(data, dict) or "status" not in data:
        # Retried like a 5xx by pollers: a status answer without a status says nothing.
        raise HeyGenMalformedResponseError(f"status answer for video {video_id} carries no status", status_code=200)
    if not data.get("id") and not data.get("video_id"):
        # The legacy endpoint sometimes omits the id it was asked about.
        data = {**data, "id": video_id}
    return VideoStatusResponse.model_validate(data, context={"video_id": video_id})


def _read_before(response: requests.Response, body: CappedBody, deadline: float, read_timeout: float) -> bytes:
    """
    The body of ``response``, up to ``body``'s cap, or ``requests.ReadTimeout`` once ``deadline`` has passed.

    :raises HeyGenAnswerTooLargeError: when a 2xx answer is longer than the cap.
    """
    import requests
    import urllib3.exceptions

    with response:  # closed, not reused, when bytes were left unread
        while body.wanted:
            try:
                # read1: one socket read at most, so a dripped body cannot keep the deadline unchecked.
                chunk = response.raw.read1(ANSWER_CHUNK_BYTES, decode_content=True)
            except urllib3.exceptions.ReadTimeoutError as failure:
                raise requests.ReadTimeout(failure) from failure
            except urllib3.exceptions.HTTPError as failure:
                # What requests' own body reading makes of it (a reset, a cut chunked body, bad gzip).
                raise requests.ConnectionError(failure) from failure
            if not chunk:
                break
            body.add(chunk)
            if time.monotonic() > deadline:
                raise requests.ReadTimeout(f"the answer was not complete within {read_timeout:g} s")
    return body.content()


def _requests_failure(error: Exception) -> TransportFailure:
    import requests
    import urllib3.exceptions

    if isinstance(error, requests.ConnectTimeout):
        return TransportFailure.NOT_CONNECTED
    if isinstance(error, requests.ConnectionError) and not isinstance(error, requests.ReadTimeout):
        reason = error.args[0] if error.args else None
        reason = getattr(reason, "reason", reason)
        if isinstance(reason, urllib3.exceptions.NewConnectionError):
            return TransportFailure.NOT_CONNECTED
    return TransportFailure.NO_RESPONSE


def _aiohttp_failure(error: BaseException) -> TransportFailure:
    if isinstance(error, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
        return TransportFailure.NOT_CONNECTED
    return TransportFailure.NO_RESPONSE
