"""
:class:`HeyGenHook`: every call this provider makes to HeyGen.

Sync calls (workers) go through one pooled :class:`requests.Session` per hook. Async calls (the
triggerer) go through one :class:`aiohttp.ClientSession` per event loop and connection id, shared by
every trigger in the process (:mod:`heygen_provider.hooks.async_client`). Both paths use the same
connection settings, retry policy, error parser and models.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.sdk import BaseHook

from heygen_provider.connection import (
    DEFAULT_CONN_ID,
    HeyGenConnectionSettings,
    ui_field_behaviour_for_hook,
)
from heygen_provider.hooks.download import DEFAULT_CHUNK_SIZE
from heygen_provider.retry import RetryPolicy, TransportFailure

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


@dataclass(frozen=True)
class ApiEndpoints:
    """
    The API paths the hook calls. HeyGen has announced the retirement of the legacy endpoints, so they are
    configurable: a ``{video_id}`` placeholder in ``video_status`` puts the id in the path (v3 style,
    ``/v3/videos/{video_id}``) instead of the ``video_id`` query parameter.
    """

    create_video: str = "/v2/video/generate"
    video_status: str = "/v1/video_status.get"
    avatars: str = "/v2/avatars"
    voices: str = "/v2/voices"
    remaining_quota: str = "/v2/user/remaining_quota"

    def status_request(self, video_id: str) -> tuple[str, dict[str, str] | None]:
        """Path and query parameters of the status call for ``video_id``."""
        if "{video_id}" in self.video_status:
            return self.video_status.format(video_id=quote(video_id, safe="")), None
        return self.video_status, {"video_id": video_id}


DEFAULT_ENDPOINTS = ApiEndpoints()


class HeyGenHook(BaseHook):
    """
    Talk to the HeyGen API with the ``heygen`` connection.

    The connection keeps the API key in its password field; ``host`` may override the base URL
    (default ``https://api.heygen.com``; ``http://`` only for loopback) and the extras may set
    ``request_timeout``, ``retry_attempts`` and ``auth_type`` (``api_key`` or ``bearer``).

    :param heygen_conn_id: the Airflow connection id.
    :param retry_policy: overrides the back-off of the retry policy; its attempts come from the
        connection's ``retry_attempts`` unless given here.
    :param endpoints: the API paths, see :class:`ApiEndpoints`; by default the legacy paths, with the
        status path from the connection's ``video_status_path`` extra when set.
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
        endpoints: ApiEndpoints | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.heygen_conn_id = heygen_conn_id
        self._retry_policy = retry_policy
        self._endpoints = endpoints

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Connection form customisation for Airflow 3.1 (3.2+ reads ``get_provider_info``)."""
        return ui_field_behaviour_for_hook()

    # -- settings -------------------------------------------------------------------------------------

    @cached_property
    def settings(self) -> HeyGenConnectionSettings:
        """The validated connection, looked up once per hook (sync)."""
        connection = self.get_connection(self.heygen_conn_id)
        return _settings_from(self.heygen_conn_id, connection)

    def endpoints_for(self, settings: HeyGenConnectionSettings) -> ApiEndpoints:
        """The API paths: given to the hook, or the defaults with the connection's status path."""
        if self._endpoints is not None:
            return self._endpoints
        if settings.video_status_path:
            return ApiEndpoints(video_status=settings.video_status_path)
        return DEFAULT_ENDPOINTS

    @property
    def endpoints(self) -> ApiEndpoints:
        return self.endpoints_for(self.settings)

    def retry_policy_for(self, settings: HeyGenConnectionSettings) -> RetryPolicy:
        if self._retry_policy is None:
            return RetryPolicy(attempts=settings.retry_attempts)
        return self._retry_policy

    # -- sync -----------------------------------------------------------------------------------------

    def get_conn(self) -> requests.Session:
        """The hook's pooled HTTP session (created on first use)."""
        return self._session

    @cached_property
    def _session(self) -> requests.Session:
        import requests

        session = requests.Session()
        session.headers.update({"Accept": "application/json", "User-Agent": _user_agent()})
        return session

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> Any:
        import requests

        settings = self.settings
        retry = self.retry_policy_for(settings).start(method, secrets=[settings.api_key])
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
            except requests.RequestException as error:
                delay = retry.delay_after_transport_error(_requests_failure(error), _describe(error))
            else:
                verdict = retry.delay_after_response(response.status_code, response.content, response.headers)
                if verdict.retry_in is None:
                    return verdict.data
                delay = verdict.retry_in
            self.log.warning("HeyGen %s %s: retrying in %.1f s", method, path, delay)
            time.sleep(delay)

    def create_video(self, request: VideoGenerateRequest | Mapping[str, Any]) -> CreatedVideo:
        """
        Submit a render. Paid: this POST is never re-sent once it may have reached HeyGen.

        :param request: a validated request, or its parameters (validated here, before any HTTP call).
        :raises HeyGenRequestValidationError: before any HTTP call, when the request breaks a rule.
        """
        from heygen_provider.models import CreatedVideo, VideoGenerateRequest

        if not isinstance(request, VideoGenerateRequest):
            request = VideoGenerateRequest.from_params(request)
        data = self._request("POST", self.endpoints.create_video, json_body=request.to_payload())
        return CreatedVideo.model_validate(data)

    def get_video_status(self, video_id: str) -> VideoStatusResponse:
        """The render's status, with fresh signed media URLs once it is done."""

        path, params = self.endpoints.status_request(video_id)
        return _status_from(video_id, self._request("GET", path, params=params))

    def list_avatars(self) -> AvatarList:
        from heygen_provider.models import AvatarList

        return AvatarList.model_validate(self._request("GET", self.endpoints.avatars))

    def list_voices(self) -> VoiceList:
        from heygen_provider.models import VoiceList

        return VoiceList.model_validate(self._request("GET", self.endpoints.voices))

    def get_remaining_quota(self) -> RemainingQuota:
        from heygen_provider.models import RemainingQuota

        return RemainingQuota.model_validate(self._request("GET", self.endpoints.remaining_quota))

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
            retry_policy=self.retry_policy_for(settings),
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
        """The validated connection, looked up without blocking the event loop and cached per process."""
        from heygen_provider.hooks.async_client import shared_settings

        return await shared_settings(self.heygen_conn_id, self._alookup_settings)

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

        from heygen_provider.hooks.async_client import shared_session

        session = shared_session(self.heygen_conn_id)
        retry = self.retry_policy_for(settings).start(method, secrets=[settings.api_key])
        timeout = aiohttp.ClientTimeout(total=settings.request_timeout, sock_connect=settings.connect_timeout)
        while True:
            try:
                async with session.request(
                    method, settings.url(path), params=params, headers=settings.auth_headers, timeout=timeout
                ) as response:
                    body = await response.read()
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                delay = retry.delay_after_transport_error(_aiohttp_failure(error), _describe(error))
            else:
                verdict = retry.delay_after_response(response.status, body, response.headers)
                if verdict.retry_in is None:
                    return verdict.data
                delay = verdict.retry_in
            self.log.warning("HeyGen %s %s: retrying in %.1f s", method, path, delay)
            await asyncio.sleep(delay)

    async def aget_video_status(self, video_id: str) -> VideoStatusResponse:
        """Async :meth:`get_video_status`, for triggers: never blocks the event loop."""
        settings = await self.aget_settings()
        path, params = self.endpoints_for(settings).status_request(video_id)
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


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _user_agent() -> str:
    from heygen_provider import __version__

    return f"airflow-provider-heygen/{__version__}"
