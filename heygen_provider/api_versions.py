"""
HeyGen's two APIs, one class each: the one place that knows how they differ.

A connection's ``api_version`` extra picks one from :data:`API_BY_VERSION`: ``v3`` (:class:`V3Api`, the
default, HeyGen's current API) or ``legacy`` (:class:`LegacyApi`: ``/v2/video/generate`` and
``/v1/video_status.get``, which HeyGen retired on 2026-10-31). Each owns its paths, the request
translation, the parsing of look-up answers and what a refusal from a retired path means; the hook, the
trigger and the operator only ask it. What every API shares (the status URL's length rules, the bulk
status call's groups) is written once, in :class:`HeyGenApi` and the functions below it.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from heygen_provider.exceptions import (
    HeyGenAPIError,
    HeyGenLegacyApiRetiredError,
    HeyGenMalformedResponseError,
    HeyGenVideoIdError,
)
from heygen_provider.models import AvatarList, RemainingQuota, VideoGenerateRequest, VoiceList
from heygen_provider.models.v3_body import to_v3_body
from heygen_provider.vocabulary import ApiVersion

#: Ids one bulk status call takes (HeyGen's documented limit).
MAX_BULK_IDS = 100
#: Characters of URL-encoded video ids one status URL carries at most: a single call's path segment, or a bulk
#: call's comma-separated list. RFC 9110 (section 4.1) recommends that every server take URLs of at least
#: 8,000 characters and servers refuse longer ones (HTTP 414); the rest is left for the host and path. 100
#: ids of HeyGen's length (32 characters) take 3,299.
MAX_URL_IDS_LENGTH = 6_000
#: An id longer than this once URL-encoded (8 times HeyGen's) never shares a bulk call: it is asked about
#: alone, so that a call refused because of it ends only its own wait.
MAX_BULK_ID_LENGTH = 256


@dataclass(frozen=True)
class HeyGenApi(metaclass=abc.ABCMeta):
    """
    The paths and translations of one HeyGen API; :class:`V3Api` and :class:`LegacyApi` fill them in.

    :param name: ``v3`` or ``legacy``.
    :param create_video: path of the paid create call.
    :param video_status: path of the status call; a ``{video_id}`` placeholder puts the id in the
        path, otherwise it goes in the ``video_id`` query parameter.
    :param avatars: path of the avatar list.
    :param voices: path of the voice list.
    :param account: path of the cheap credential check that also reports remaining credit.
    :param idempotent_creates: creates carry an ``Idempotency-Key``, so a create that timed out or got
        a 5xx may be sent again without paying twice.
    :param bulk_status: path of the call that reports many videos' statuses at once, ``None`` where
        the API has none (status triggers then poll per video).
    :param template: path of a template (``GET`` reads it, ``POST`` renders it, paid), with a
        ``{template_id}`` placeholder; ``None`` where the API has no templates in this provider.
    :param paged_lists: the avatar and voice lists come in pages (``has_more``, ``next_token``, asked
        for again with ``token``), as v3's listings do.
    :param video: path of one video for ``DELETE`` (deleting it), with a ``{video_id}`` placeholder;
        ``None`` where the provider cannot delete a video on that API.
    """

    name: ApiVersion
    create_video: str
    video_status: str
    avatars: str
    voices: str
    account: str
    idempotent_creates: bool
    bulk_status: str | None = None
    template: str | None = None
    paged_lists: bool = False
    video: str | None = None

    def status_request(self, video_id: str) -> tuple[str, dict[str, str] | None]:
        """
        Path and query parameters of the status call for ``video_id``.

        :raises HeyGenVideoIdError: before any call, when the id would make the URL longer than servers take.
        """
        check_url_length(video_id)
        if "{video_id}" in self.video_status:
            return self.video_status.format(video_id=quote(video_id, safe="")), None
        return self.video_status, {"video_id": video_id}

    def bulk_status_request(self, video_ids: Sequence[str]) -> tuple[str, dict[str, str]]:
        """Path and query parameters of one bulk status call (at most :data:`MAX_BULK_IDS` ids)."""
        if self.bulk_status is None:
            raise ValueError(f"the {self.name} API has no bulk status call")
        if not 0 < len(video_ids) <= MAX_BULK_IDS:
            raise ValueError(f"a bulk status call takes 1 to {MAX_BULK_IDS} ids, not {len(video_ids)}")
        if _bulk_length(video_ids) > MAX_URL_IDS_LENGTH:
            raise ValueError(f"a bulk status call takes ids of at most {MAX_URL_IDS_LENGTH} characters together")
        return self.bulk_status, {"video_ids": ",".join(video_ids)}

    def template_path(self, template_id: str) -> str:
        """
        Path of template ``template_id``.

        :raises ValueError: when this API has no template calls (``legacy``).
        """
        if self.template is None:
            raise ValueError(f"the {self.name} API has no template calls")
        return self.template.format(template_id=quote(template_id, safe=""))

    def video_path(self, video_id: str) -> str:
        """
        Path of video ``video_id``, which ``DELETE`` deletes.

        :raises ValueError: when this API has no delete call here (``legacy``: HeyGen's references
            name ``DELETE /v1/video.delete`` but not its parameters or answer).
        """
        if self.video is None:
            raise ValueError(f"the {self.name} API has no video deletion call in this provider")
        return self.video.format(video_id=quote(video_id, safe=""))

    def with_status_path(self, path: str | None) -> HeyGenApi:
        """This API with another status path (the deprecated ``video_status_path`` extra)."""
        return self if not path else replace(self, video_status=path)

    @abc.abstractmethod
    def request_body(self, request: VideoGenerateRequest) -> dict[str, Any]:
        """
        The create call's JSON body for ``request``.

        :raises HeyGenRequestValidationError: naming each field this API cannot express.
        """

    @abc.abstractmethod
    def avatars_from(self, data: Any) -> AvatarList:
        """The avatar list in the avatar call's answer ``data``."""

    @abc.abstractmethod
    def voices_from(self, data: Any) -> VoiceList:
        """The voice list in the voice call's answer ``data``."""

    @abc.abstractmethod
    def account_from(self, data: Any) -> RemainingQuota:
        """The remaining credit in the account call's answer ``data``."""

    def explain(self, error: HeyGenAPIError, path: str) -> HeyGenAPIError:
        """``error`` as the user should read it: as it is, unless the API says more (:meth:`LegacyApi.explain`)."""
        return error


@dataclass(frozen=True)
class V3Api(HeyGenApi):
    """HeyGen's current API (``/v3``): idempotent creates, a bulk status call, templates, paged lists."""

    name: ApiVersion = "v3"
    create_video: str = "/v3/videos"
    video_status: str = "/v3/videos/{video_id}"
    avatars: str = "/v3/avatars/looks"
    voices: str = "/v3/voices"
    account: str = "/v3/users/me"
    idempotent_creates: bool = True
    bulk_status: str | None = "/v3/videos/statuses"
    template: str | None = "/v3/templates/{template_id}"
    paged_lists: bool = True
    video: str | None = "/v3/videos/{video_id}"

    def request_body(self, request: VideoGenerateRequest) -> dict[str, Any]:
        return to_v3_body(request)

    def avatars_from(self, data: Any) -> AvatarList:
        return AvatarList.from_v3_looks(data)

    def voices_from(self, data: Any) -> VoiceList:
        return VoiceList.from_v3_voices(data)

    def account_from(self, data: Any) -> RemainingQuota:
        return RemainingQuota.from_v3_user(data)


#: What a retired path answers: HeyGen's legacy API removed, or a gateway in its place.
_RETIRED_STATUSES = frozenset({404, 405, 410})


def _retired_hint(status: int, path: str) -> str:
    return (
        f"HeyGen answered HTTP {status} on the legacy path {path}: HeyGen retired its legacy API "
        "on 2026-10-31. Set the connection's extra api_version to 'v3' (the default) to use "
        "HeyGen's current API."
    )


@dataclass(frozen=True)
class LegacyApi(HeyGenApi):
    """
    HeyGen's legacy API (``/v1``, ``/v2``), retired on 2026-10-31: no idempotency keys, no bulk status call,
    no templates or deletion in this provider; its refusals may mean it is gone (:meth:`explain`).
    """

    name: ApiVersion = "legacy"
    create_video: str = "/v2/video/generate"
    video_status: str = "/v1/video_status.get"
    avatars: str = "/v2/avatars"
    voices: str = "/v2/voices"
    account: str = "/v2/user/remaining_quota"
    idempotent_creates: bool = False

    def request_body(self, request: VideoGenerateRequest) -> dict[str, Any]:
        return request.to_legacy_body()

    def avatars_from(self, data: Any) -> AvatarList:
        return AvatarList.model_validate(data)

    def voices_from(self, data: Any) -> VoiceList:
        return VoiceList.model_validate(data)

    def account_from(self, data: Any) -> RemainingQuota:
        return RemainingQuota.model_validate(data)

    def explain(self, error: HeyGenAPIError, path: str) -> HeyGenAPIError:
        """
        ``error`` as the user should read it: a path HeyGen no longer serves (a 405 or 410, a 404 that is
        not HeyGen's own answer about a video, or a redirect) says that HeyGen may have retired its legacy
        API and how to switch; so does a 2xx page that is not HeyGen's JSON, which stays an unreadable
        answer (a captive portal is possible too).
        """
        if error.http_status is None:
            return error
        status = error.http_status
        # A web page, not a cut-off JSON answer (a network fault, which says nothing about retirement).
        if status < 300 and isinstance(error, HeyGenMalformedResponseError) and error.web_page:
            explained = HeyGenMalformedResponseError(
                f"{error.message}. {_retired_hint(status, path)}", status_code=status, retry_after=error.retry_after
            )
            explained.web_page = True
            return explained
        # A retired path may redirect to a page about the retirement; redirects are never followed.
        if status not in _RETIRED_STATUSES and not 300 <= status < 400:
            return error
        if status == 404 and error.heygen_body and path != self.create_video:
            return error
        return HeyGenLegacyApiRetiredError(
            f"{_retired_hint(status, path)} HeyGen said: {error.message}", status_code=status, code=error.code
        )


def takes_in_bulk(video_id: str) -> bool:
    """
    Whether ``video_id`` may share a bulk status call with other ids. An odd id is asked about alone: a
    comma would split it in two, padding or an over-long id could have the whole call refused.
    """
    return (
        bool(video_id)
        and "," not in video_id
        and video_id.strip() == video_id
        and len(quote(video_id, safe="")) <= MAX_BULK_ID_LENGTH
    )


def bulk_groups(video_ids: Sequence[str]) -> list[list[str]]:
    """
    ``video_ids`` (each one :func:`takes_in_bulk`), in order, in as few bulk status calls as fit: at most
    :data:`MAX_BULK_IDS` ids and :data:`MAX_URL_IDS_LENGTH` URL-encoded characters in each.
    """
    groups: list[list[str]] = []
    length = 0
    for video_id in video_ids:
        added = len(quote(video_id, safe="")) + 1  # and its comma
        if not groups or len(groups[-1]) >= MAX_BULK_IDS or length + added > MAX_URL_IDS_LENGTH + 1:
            groups.append([])
            length = 0
        groups[-1].append(video_id)
        length += added
    return groups


def _bulk_length(video_ids: Sequence[str]) -> int:
    """The URL-encoded length of a bulk call's id list, counting each comma."""
    return sum(len(quote(video_id, safe="")) for video_id in video_ids) + len(video_ids) - 1


def check_url_length(video_id: str) -> None:
    """
    Refuse, before any call, a ``video_id`` no status URL can carry: longer than
    :data:`MAX_URL_IDS_LENGTH` characters once URL-encoded. Only that id's wait or task fails.

    :raises HeyGenVideoIdError: saying how long the id is, with its start only.
    """
    length = len(quote(video_id, safe=""))
    if length <= MAX_URL_IDS_LENGTH:
        return
    shown = repr(video_id[:40]) + ("..." if len(video_id) > 40 else "")
    raise HeyGenVideoIdError(
        f"video_id must be at most {MAX_URL_IDS_LENGTH:,} characters once URL-encoded, so that its status URL "
        f"stays within what HTTP servers take; got {len(video_id):,} characters ({length:,} encoded), "
        f"starting {shown}. No HeyGen video id is that long: check where the id came from."
    )


V3 = V3Api()
LEGACY = LegacyApi()
#: Each API by the name a connection's ``api_version`` extra gives it.
API_BY_VERSION: dict[ApiVersion, HeyGenApi] = {"v3": V3, "legacy": LEGACY}
