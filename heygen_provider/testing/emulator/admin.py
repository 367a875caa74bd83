"""The emulator's own admin API under ``/_emulator/``: no API key, never mistaken for HeyGen's paths.

=========  ==============================  ===================================================
Method     Path                            Effect
=========  ==============================  ===================================================
GET        /_emulator/health               ``{"status": "ok", "base_url", "api_key", "now"}``
GET        /_emulator/requests             the request log; filters ``method``, ``path``, ``video_id``,
                                           ``idempotency_key``
DELETE     /_emulator/requests             clear the request log
GET        /_emulator/faults               queued fault rules and every fault name
POST       /_emulator/faults               queue a rule: ``{"fault", "method", "path", "count", ...}``
DELETE     /_emulator/faults               drop every queued rule
GET        /_emulator/videos               every video with its status and timetable
GET        /_emulator/assets               every uploaded or reserved asset (v3 assets)
POST       /_emulator/clock                ``{"advance_seconds": N}``: move time forward
GET        /_emulator/settings             the current settings
PATCH      /_emulator/settings             change some settings (same names as EmulatorSettings)
POST       /_emulator/reset                back to the start-up state
=========  ==============================  ===================================================

Every write (any method but GET, HEAD and OPTIONS) must carry ``Content-Type: application/json``, with
or without a body; anything else is answered 415 and changes nothing. A web page can make a browser send
a form or ``text/plain`` POST to 127.0.0.1 without asking, but a JSON one only after a CORS preflight,
which the emulator never grants: so a page a developer visits cannot queue faults or move the clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from heygen_provider.testing.emulator.faults import FAULT_NAMES
from heygen_provider.testing.emulator.messages import HttpRequest, HttpResponse, json_response

if TYPE_CHECKING:
    from heygen_provider.testing.emulator.server import EmulatorApp

ADMIN_PREFIX = "/_emulator/"
#: Methods that only read: every other admin request is a write.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The one Content-Type an admin write is accepted with: a browser cannot send it cross-site unasked.
WRITE_CONTENT_TYPE = "application/json"
FAULT_FIELDS = ("fault", "method", "path", "count", "process", "delay_seconds", "retry_after_seconds")


class AdminError(Exception):
    """A bad admin request, answered with HTTP 400."""


def _json_object(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise AdminError("the body must be JSON") from None
    if not isinstance(body, dict):
        raise AdminError("the body must be a JSON object")
    return body


def _sent_as_json(request: HttpRequest) -> bool:
    """Whether the request's media type (the Content-Type before any ``;``) is JSON's, as a browser reads it."""
    media_type = (request.headers.get("content-type") or "").split(";", 1)[0]
    return media_type.strip().lower() == WRITE_CONTENT_TYPE


class AdminApi:
    """Serves ``/_emulator/*`` for one :class:`~heygen_provider.testing.emulator.server.EmulatorApp`.

    :param app: the emulator it controls.
    """

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app
        self.routes: dict[tuple[str, str], Callable[[HttpRequest], Any]] = {
            ("GET", "health"): self.health,
            ("GET", "requests"): self.requests,
            ("DELETE", "requests"): lambda _: self.app.log.clear(),
            ("GET", "faults"): self.faults,
            ("POST", "faults"): self.add_fault,
            ("DELETE", "faults"): lambda _: self.app.faults.clear(),
            ("GET", "videos"): self.videos,
            ("GET", "assets"): self.assets,
            ("POST", "clock"): self.advance_clock,
            ("GET", "settings"): lambda _: self.app.settings.to_dict(),
            ("PATCH", "settings"): self.update_settings,
            ("POST", "reset"): lambda _: self.app.reset(),
        }

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one admin request.

        :param request: a request whose path starts with :data:`ADMIN_PREFIX`.
        """
        if request.method not in READ_METHODS and not _sent_as_json(request):
            return json_response(
                415,
                {
                    "error": f"admin writes must be sent with Content-Type: {WRITE_CONTENT_TYPE} (even without a "
                    "body), so that no web page can send them: a browser sends that type to another site only "
                    "after a CORS preflight, which the emulator never allows"
                },
            )
        route = self.routes.get((request.method, request.path[len(ADMIN_PREFIX) :]))
        if route is None:
            return json_response(404, {"error": f"no admin endpoint {request.method} {request.path}"})
        try:
            payload = route(request)
        except (AdminError, ValueError, TypeError) as problem:
            return json_response(400, {"error": str(problem)})
        return json_response(200, {"ok": True} if payload is None else payload)

    def health(self, request: HttpRequest) -> dict[str, Any]:
        settings = self.app.settings
        return {
            "status": "ok",
            "base_url": self.app.base_url,
            "api_key": settings.api_keys[0] if settings.api_keys else None,
            "now": self.app.clock.now(),
        }

    def requests(self, request: HttpRequest) -> dict[str, Any]:
        query = request.query
        selected = self.app.log.select(
            query.get("method"), query.get("path"), query.get("video_id"), query.get("idempotency_key")
        )
        return {"requests": [entry.to_dict() for entry in selected]}

    def faults(self, request: HttpRequest) -> dict[str, Any]:
        return {"faults": [rule.to_dict() for rule in self.app.faults.rules], "names": list(FAULT_NAMES)}

    def add_fault(self, request: HttpRequest) -> dict[str, Any]:
        body = _json_object(request)
        unknown = set(body) - set(FAULT_FIELDS)
        if unknown or "fault" not in body:
            raise AdminError(f"expected the fields {', '.join(FAULT_FIELDS)} (fault required)")
        return {"fault": self.app.faults.add(**body).to_dict()}

    def videos(self, request: HttpRequest) -> dict[str, Any]:
        now = self.app.clock.now()
        return {"videos": [job.summary(now) for job in self.app.store.jobs.values()]}

    def assets(self, request: HttpRequest) -> dict[str, Any]:
        return {"assets": [asset.summary() for asset in self.app.assets.assets.values()]}

    def advance_clock(self, request: HttpRequest) -> dict[str, Any]:
        seconds = _json_object(request).get("advance_seconds")
        if not isinstance(seconds, int | float) or isinstance(seconds, bool):
            raise AdminError("advance_seconds must be a number")
        self.app.clock.advance(float(seconds))
        return {"now": self.app.clock.now(), "offset": self.app.clock.offset}

    def update_settings(self, request: HttpRequest) -> dict[str, Any]:
        self.app.apply_settings(self.app.settings.updated(_json_object(request)))
        return self.app.settings.to_dict()
