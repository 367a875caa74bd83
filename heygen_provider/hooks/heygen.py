"""
:class:`HeyGenHook`: every call this provider makes to HeyGen.

Sync calls (workers) go through one pooled :class:`requests.Session` per hook. Async calls (the
triggerer) go through one :class:`aiohttp.ClientSession` per event loop and connection id, shared by
every trigger in the process (:mod:`heygen_provider.hooks.cache`). Both paths use the same
connection settings, retry policy, error parser and models.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from heygen_provider.connection import (
    DEFAULT_CONN_ID,
    HeyGenConnectionSettings,
    ui_field_behaviour_for_hook,
)
from heygen_provider.exceptions import HeyGenAuthenticationError, HeyGenError
from heygen_provider.hooks import cache
from heygen_provider.hooks.calls import describe_failure, final_error, read_answer, transport_error
from heygen_provider.hooks.download import DEFAULT_CHUNK_SIZE
from heygen_provider.retry import RetryPolicy, RetryState, TransportFailure

if TYPE_CHECKING:
    import requests
    from airflow.sdk import ObjectStoragePath

    from heygen_provider.hooks.download import DownloadResult
    from heygen_provider.models import (
        AvatarList,
        CreatedVideo,
        RemainingQuota,
        VideoGenerateRequest,
        VideoStatusResponse,
        VoiceList,
    )


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

    def _start(self, settings: HeyGenConnectionSettings, method: str, *, idempotent: bool | None) -> RetryState:
        return (self.retry_policy or settings.retry_policy).start(method, idempotent=idempotent)

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
        idempotent: bool | None = None,
    ) -> Any:
        import requests

        settings = self.settings
        retry = self._start(settings, method, idempotent=idempotent)
        timeout = (settings.connect_timeout, settings.request_timeout)
        while True:
            try:
                response = self._session.request(
                    method,
                    settings.url(path),
                    params=params,
                    json=json_body,
                    headers=settings.auth_headers,
                    timeout=timeout,
                )
                return read_answer(response.status_code, response.content, response.headers, settings.secrets)
            except requests.RequestException as failure:
                error: HeyGenError = transport_error(method, _requests_failure(failure), describe_failure(failure))
            except HeyGenError as answer_error:
                error = answer_error
            time.sleep(self._delay_or_raise(retry, error, path))

    def create_video(self, request: VideoGenerateRequest | Mapping[str, Any]) -> CreatedVideo:
        """
        Submit a render. Paid: this POST is never re-sent once it may have reached HeyGen.

        :param request: a validated request, or its parameters (validated here, before any HTTP call).
        :raises HeyGenRequestValidationError: before any HTTP call, when the request breaks a rule.
        """
        from heygen_provider.models import CreatedVideo, VideoGenerateRequest

        if not isinstance(request, VideoGenerateRequest):
            request = VideoGenerateRequest.from_params(request)
        data = self._request("POST", self.settings.endpoints.create_video, json_body=request.to_payload())
        return CreatedVideo.model_validate(data)

    def get_video_status(self, video_id: str) -> VideoStatusResponse:
        """The render's status, with fresh signed media URLs once it is done."""

        path, params = self.settings.endpoints.status_request(video_id)
        return _status_from(video_id, self._request("GET", path, params=params))

    def list_avatars(self) -> AvatarList:
        from heygen_provider.models import AvatarList

        return AvatarList.model_validate(self._request("GET", self.settings.endpoints.avatars))

    def list_voices(self) -> VoiceList:
        from heygen_provider.models import VoiceList

        return VoiceList.model_validate(self._request("GET", self.settings.endpoints.voices))

    def get_remaining_quota(self) -> RemainingQuota:
        from heygen_provider.models import RemainingQuota

        return RemainingQuota.model_validate(self._request("GET", self.settings.endpoints.remaining_quota))

    def download_media(
        self, url: str, destination: ObjectStoragePath, *, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> DownloadResult:
        """
        Stream a media URL from a status answer to ``destination``, atomically and in constant memory.

        The request carries no API key: media live on HeyGen's CDN, not on the API host.

        :raises MediaUrlExpired: when the signed URL has expired; ask :meth:`get_video_status` for a
            fresh one.
        """
        from heygen_provider.hooks.download import download_media

        settings = self.settings
        return download_media(
            self._session,
            url,
            destination,
            retry_policy=self.retry_policy or settings.retry_policy,
            timeout=(settings.connect_timeout, settings.request_timeout),
            chunk_size=chunk_size,
        )

    def test_connection(self) -> tuple[bool, str]:
        """One cheap GET (the remaining quota). Returns ``(ok, message)`` and never raises."""
        try:
            quota = self.get_remaining_quota()
        except Exception as error:
            return False, str(error)
        return True, f"Connected to HeyGen: {quota.remaining_credits:g} credits remaining."

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
        import aiohttp

        session = cache.shared_session(self.heygen_conn_id, settings.session_headers)
        retry = self._start(settings, method, idempotent=None)
        timeout = aiohttp.ClientTimeout(total=settings.request_timeout, sock_connect=settings.connect_timeout)
        while True:
            try:
                async with session.request(
                    method, settings.url(path), params=params, headers=settings.auth_headers, timeout=timeout
                ) as response:
                    body = await response.read()
                return read_answer(response.status, body, response.headers, settings.secrets)
            except (aiohttp.ClientError, asyncio.TimeoutError) as failure:
                error: HeyGenError = transport_error(method, _aiohttp_failure(failure), describe_failure(failure))
            except HeyGenError as answer_error:
                error = answer_error
            await asyncio.sleep(self._delay_or_raise(retry, error, path))

    async def aget_video_status(self, video_id: str) -> VideoStatusResponse:
        """Async :meth:`get_video_status`, for triggers: never blocks the event loop."""
        settings = await self.aget_settings()
        path, params = settings.endpoints.status_request(video_id)
        return _status_from(video_id, await self._arequest("GET", path, settings=settings, params=params))


def _settings_from(conn_id: str, connection: Any) -> HeyGenConnectionSettings:
    return HeyGenConnectionSettings.from_connection(
        conn_id,
        host=connection.host,
        password=connection.password,
        port=connection.port,
        extra=connection.extra,
    )


def _status_from(video_id: str, data: Any) -> VideoStatusResponse:
    from heygen_provider.exceptions import HeyGenMalformedResponseError
    from heygen_provider.models import VideoStatusResponse

    if not isinstance(data, dict) or "status" not in data:
        # Retried like a 5xx by pollers: a status answer without a status says nothing.
        raise HeyGenMalformedResponseError(f"status answer for video {video_id} carries no status", status_code=200)
    if not data.get("id") and not data.get("video_id"):
        # The legacy endpoint sometimes omits the id it was asked about.
        data = {**data, "id": video_id}
    return VideoStatusResponse.model_validate(data, context={"video_id": video_id})


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
    import aiohttp

    if isinstance(error, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
        return TransportFailure.NOT_CONNECTED
    return TransportFailure.NO_RESPONSE
