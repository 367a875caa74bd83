"""A Python client of the admin API, so tests can control an emulator running in any process."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from heygen_provider.testing.emulator.admin import WRITE_CONTENT_TYPE
from heygen_provider.testing.emulator.faults import DEFAULT_RETRY_AFTER_SECONDS, DEFAULT_SLOW_SECONDS
from heygen_provider.testing.emulator.requestlog import LoggedRequest

BULK_STATUS_PATH = "/v3/videos/statuses"
# Loopback traffic must never go through a proxy configured in the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EmulatorAdminError(Exception):
    """The admin API refused a request or could not be reached."""


class EmulatorClient:
    """Controls an emulator through ``/_emulator/*``.

    :param base_url: the emulator's base URL, e.g. ``http://127.0.0.1:8000``.
    :param timeout: seconds to wait for each admin answer.
    """

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(
        self, verb: str, endpoint: str, body: dict[str, Any] | None = None, query: dict[str, str | None] | None = None
    ) -> Any:
        url = f"{self.base_url}/_emulator/{endpoint}"
        filters = {name: value for name, value in (query or {}).items() if value is not None}
        if filters:
            url += "?" + urllib.parse.urlencode(filters)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=verb)
        # Every admin write must say JSON, bodiless ones too: the emulator refuses (415) a write a web
        # page could have sent (admin.WRITE_CONTENT_TYPE).
        request.add_header("Content-Type", WRITE_CONTENT_TYPE)
        try:
            with _OPENER.open(request, timeout=self.timeout) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            raise EmulatorAdminError(f"{verb} {endpoint}: HTTP {error.code} {error.read().decode()}") from None
        except OSError as error:
            raise EmulatorAdminError(f"{verb} {endpoint}: {error}") from error

    def health(self) -> dict[str, Any]:
        """``{"status": "ok", "base_url", "api_key", "now"}``."""
        result: dict[str, Any] = self._call("GET", "health")
        return result

    def wait_until_ready(self, timeout: float = 10.0) -> None:
        """Wait until the emulator answers.

        :param timeout: seconds to wait at most.
        :raises EmulatorAdminError: when it does not answer in time.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.health()
                return
            except EmulatorAdminError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def requests(
        self,
        method: str | None = None,
        path: str | None = None,
        video_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> list[LoggedRequest]:
        """The logged requests (oldest first) matching every filter given.

        :param method: e.g. ``POST``.
        :param path: e.g. ``/v2/video/generate``.
        :param video_id: the video created or asked about (bulk status calls that asked about it too).
        :param idempotency_key: the ``Idempotency-Key`` a v3 mutation sent.
        """
        filters = {"method": method, "path": path, "video_id": video_id, "idempotency_key": idempotency_key}
        answer = self._call("GET", "requests", query=filters)
        return [LoggedRequest.from_dict(entry) for entry in answer["requests"]]

    def bulk_status_calls(self) -> list[LoggedRequest]:
        """The ``GET /v3/videos/statuses`` calls, oldest first; each one's ``bulk_ids`` lists the ids it asked."""
        return self.requests(method="GET", path=BULK_STATUS_PATH)

    def idempotent_replays(self, path: str | None = None) -> list[LoggedRequest]:
        """The requests answered with the replay of an earlier answer to the same ``Idempotency-Key``.

        :param path: only those to this path, e.g. ``/v3/videos``.
        """
        return [entry for entry in self.requests(path=path) if entry.idempotent_replay]

    def clear_requests(self) -> None:
        """Empty the request log."""
        self._call("DELETE", "requests")

    def add_fault(
        self,
        fault: str,
        *,
        method: str | None = None,
        path: str | None = None,
        count: int | None = 1,
        process: bool = False,
        delay_seconds: float = DEFAULT_SLOW_SECONDS,
        retry_after_seconds: int = DEFAULT_RETRY_AFTER_SECONDS,
    ) -> dict[str, Any]:
        """Queue "the next ``count`` requests matching ``method`` and ``path`` get ``fault``".

        :param fault: a name from :data:`~heygen_provider.testing.emulator.faults.FAULT_NAMES`.
        :param method: the method to match, or ``None`` for any.
        :param path: the exact path, a prefix ending in ``*``, or ``None`` for any HeyGen path
            (render outcomes then match the creation endpoints).
        :param count: how many requests; ``None`` for all until cleared.
        :param process: handle the request before answering with the fault (e.g. a video created
            although the client sees a 504 or a dropped connection).
        :param delay_seconds: the delay of ``slow``.
        :param retry_after_seconds: the Retry-After of ``rate_limited`` and ``service_unavailable``.
        :returns: the queued rule.
        """
        body = {
            "fault": fault,
            "method": method,
            "path": path,
            "count": count,
            "process": process,
            "delay_seconds": delay_seconds,
            "retry_after_seconds": retry_after_seconds,
        }
        rule: dict[str, Any] = self._call("POST", "faults", body)["fault"]
        return rule

    def faults(self) -> list[dict[str, Any]]:
        """The rules still queued."""
        rules: list[dict[str, Any]] = self._call("GET", "faults")["faults"]
        return rules

    def clear_faults(self) -> None:
        """Drop every queued rule."""
        self._call("DELETE", "faults")

    def videos(self) -> list[dict[str, Any]]:
        """Every video with its status and timetable."""
        videos: list[dict[str, Any]] = self._call("GET", "videos")["videos"]
        return videos

    def assets(self) -> list[dict[str, Any]]:
        """Every v3 asset, uploaded or reserved: ``asset_id``, ``filename``, ``mime_type``, ``kind``,
        ``size_bytes``, ``status``, ``source`` (``upload`` or ``direct_upload``), ``created_at``,
        ``sha256``, ``declared_size``, ``declared_sha256`` and ``upload_credential`` (what the upload
        ``PUT`` carried: ``None`` when no API key was sent).
        """
        assets: list[dict[str, Any]] = self._call("GET", "assets")["assets"]
        return assets

    def retire_legacy_api(self, retired: bool = True) -> None:
        """Make the legacy paths (``/v1/...``, ``/v2/...``) answer 404 HTML pages, as a retired API would.

        :param retired: ``False`` brings them back.
        """
        self.update_settings(legacy_retired=retired)

    def advance_time(self, seconds: float) -> None:
        """Move the emulator's clock forward: renders progress and signed URLs age.

        :param seconds: how far.
        """
        self._call("POST", "clock", {"advance_seconds": seconds})

    def current_settings(self) -> dict[str, Any]:
        """The settings in force, with any :meth:`update_settings` changes."""
        settings: dict[str, Any] = self._call("GET", "settings")
        return settings

    def update_settings(self, **changes: Any) -> dict[str, Any]:
        """Change settings while running (names of :class:`EmulatorSettings`); :meth:`reset` undoes it.

        :param changes: field names and new values.
        """
        settings: dict[str, Any] = self._call("PATCH", "settings", changes)
        return settings

    def reset(self) -> None:
        """Back to the start-up state: no videos, requests, faults, clock offset or setting changes."""
        self._call("POST", "reset")
