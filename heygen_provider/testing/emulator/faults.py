"""Scenario control: the faults the emulator can inject and the queue of rules that trigger them.

A rule says "the next ``count`` requests matching METHOD and path get fault X". Faults come in three
families:

- answers HeyGen (or a proxy in front of it) really gives: 401, 403, 404, 402, 429 with Retry-After,
  500, 502, 503, 504, an HTML proxy page;
- transport trouble: ``slow``, ``drop``, ``reset``, ``truncated_json``, ``empty_body``;
- render outcomes, applied to the video a creation request makes: ``render_failed`` and friends.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass
from email.utils import formatdate
from typing import Any

from heygen_provider.testing.emulator import responses
from heygen_provider.testing.emulator.messages import CLOSE, RESET, HttpResponse, json_response

CREATE_PATHS = frozenset({"/v2/video/generate", "/v2/video/av4/generate", "/v3/videos"})
#: What the ``unknown_status`` fault and the ``render_unknown_status`` outcome report as status.
UNKNOWN_STATUS_VALUE = "under_review"
DEFAULT_SLOW_SECONDS = 30.0
DEFAULT_RETRY_AFTER_SECONDS = 2

HTML_PROXY_PAGE = b"""<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title></head>
<body><center><h1>502 Bad Gateway</h1></center>
<hr><center>cloudflare</center>
<p>Ray ID: 8f0e6a0e9c1d2b3a &bull; The origin web server returned an invalid response.</p>
</body></html>
"""


@dataclass(frozen=True)
class RenderOutcome:
    """How a render ends.

    :param final_status: ``completed`` or ``failed``; ignored when ``endless_status`` is set.
    :param error: HeyGen's error object reported in the status (may accompany ``completed``).
    :param endless_status: a status reported for ever instead of finishing.
    """

    final_status: str
    error: dict[str, Any] | None = None
    endless_status: str | None = None


def too_long_error(limit_seconds: float) -> dict[str, Any]:
    """HeyGen's error object for a video longer than the plan allows (code 40119).

    :param limit_seconds: the plan's longest video.
    """
    message = f"Video is too long (> {limit_seconds:.1f}s). Please upgrade your plan to generate longer videos"
    return {"code": 40119, "message": message, "detail": message}


CREDIT_ERROR = {
    "code": "MOVIO_PAYMENT_INSUFFICIENT_CREDIT",
    "message": "Insufficient credit.",
    "detail": "Insufficient credit. Please top up your account to continue generating videos.",
}

SUCCESS = RenderOutcome("completed")
RENDER_OUTCOMES: dict[str, RenderOutcome] = {
    "render_failed": RenderOutcome("failed", too_long_error(180.0)),
    "render_failed_credit": RenderOutcome("failed", CREDIT_ERROR),
    # A failure on HeyGen's side that a new render may not meet again.
    "render_failed_internal": RenderOutcome("failed", {"code": "internal_error", "message": "Rendering failed"}),
    # HeyGen sometimes reports a failure with no code and no message at all (heygen-cli#321).
    "render_failed_no_reason": RenderOutcome("failed"),
    "render_completed_with_error": RenderOutcome("completed", CREDIT_ERROR),
    "render_unknown_status": RenderOutcome("processing", endless_status=UNKNOWN_STATUS_VALUE),
    "render_stuck": RenderOutcome("processing", endless_status="processing"),
}

HTTP_FAULTS = (
    "unauthorized",
    "forbidden",
    "not_found",
    "payment_required",
    "rate_limited",
    "rate_limited_http_date",
    "server_error",
    "bad_gateway",
    "service_unavailable",
    "gateway_timeout",
    "html_error_page",
)
TRANSPORT_FAULTS = ("slow", "drop", "reset", "truncated_json", "empty_body", "unknown_status", "numeric_video_id")
#: Every fault name accepted by the admin API, the Python API and the magic values.
FAULT_NAMES = (*HTTP_FAULTS, *TRANSPORT_FAULTS, *RENDER_OUTCOMES)
# Faults that change the normal answer rather than replace it, so the request is processed first.
_TRANSFORMING = frozenset({"slow", "truncated_json", "unknown_status", "numeric_video_id"})
#: What the ``numeric_video_id`` fault puts in place of the created video's id: a 200 the client cannot use.
NUMERIC_VIDEO_ID = 1234567


@dataclass
class FaultRule:
    """A queued fault.

    :param id: identifies the rule in listings.
    :param fault: one of :data:`FAULT_NAMES`.
    :param method: the HTTP method to match, or ``None`` for any.
    :param path: the exact path to match, a prefix ending in ``*``, or ``None`` for any HeyGen path
        (render outcomes then match the creation endpoints only).
    :param remaining: requests still to fault; ``None`` means every matching request until cleared.
    :param process: handle the request normally before answering with the fault, as when a gateway
        times out after the work was done (a created video whose id the client never sees).
    :param delay_seconds: the delay of the ``slow`` fault.
    :param retry_after_seconds: the Retry-After of the 429 and 503 faults.
    """

    id: int
    fault: str
    method: str | None = None
    path: str | None = None
    remaining: int | None = 1
    process: bool = False
    delay_seconds: float = DEFAULT_SLOW_SECONDS
    retry_after_seconds: int = DEFAULT_RETRY_AFTER_SECONDS

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to a request.

        :param method: the request's method.
        :param path: the request's path.
        """
        if self.method is not None and self.method != method:
            return False
        if self.path is None:
            return method == "POST" and path in CREATE_PATHS if self.fault in RENDER_OUTCOMES else True
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return self.path == path

    @property
    def transforms(self) -> bool:
        """Whether the fault alters the normal answer (so the request must be handled first)."""
        return self.fault in _TRANSFORMING or self.process

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the admin API."""
        return asdict(self)


class FaultBook:
    """The queue of fault rules, consulted in the order they were added."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(
        self,
        fault: str,
        *,
        method: str | None = None,
        path: str | None = None,
        count: int | None = 1,
        process: bool = False,
        delay_seconds: float = DEFAULT_SLOW_SECONDS,
        retry_after_seconds: int = DEFAULT_RETRY_AFTER_SECONDS,
    ) -> FaultRule:
        """Queue a rule; see :class:`FaultRule` for the parameters.

        :raises ValueError: on an unknown fault name or a count below 1.
        """
        if fault not in FAULT_NAMES:
            raise ValueError(f"unknown fault {fault!r}; choose one of {', '.join(FAULT_NAMES)}")
        if count is not None and count < 1:
            raise ValueError("count must be at least 1, or null for every matching request")
        if delay_seconds < 0 or retry_after_seconds < 0:
            raise ValueError("delay_seconds and retry_after_seconds must not be negative")
        rule = FaultRule(
            id=next(self._ids),
            fault=fault,
            method=method.upper() if method else None,
            path=path,
            remaining=count,
            process=process,
            delay_seconds=delay_seconds,
            retry_after_seconds=retry_after_seconds,
        )
        self.rules.append(rule)
        return rule

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first rule matching a request, used up by one.

        :param method: the request's method.
        :param path: the request's path.
        """
        for rule in self.rules:
            if rule.matches(method, path):
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self.rules.remove(rule)
                return rule
        return None

    def clear(self) -> None:
        """Forget every rule."""
        self.rules.clear()


def _retry_after(rule: FaultRule, now: float, as_date: bool) -> list[tuple[str, str]]:
    if as_date:
        return [("Retry-After", formatdate(now + rule.retry_after_seconds, usegmt=True))]
    return [("Retry-After", str(rule.retry_after_seconds))]


#: The application's own refusals in v3's error shape, for faults on v3 paths: status, code, message.
#: The gateway's answers (502, 504, the HTML page, 429, 402) look the same on every path.
V3_FAULT_ANSWERS = {
    "forbidden": (403, "forbidden", "You do not have permission to access this resource"),
    "not_found": (404, "not_found", "Resource not found"),
    "server_error": (500, "internal_error", "Internal server error"),
    "service_unavailable": (503, "service_unavailable", "Service temporarily unavailable"),
}


def _v3_fault_response(rule: FaultRule) -> HttpResponse | None:
    if rule.fault == "unauthorized":
        return responses.v3_unauthorized()
    if rule.fault not in V3_FAULT_ANSWERS:
        return None
    status, code, message = V3_FAULT_ANSWERS[rule.fault]
    headers = _retry_after(rule, 0.0, as_date=False) if status == 503 else None
    return responses.v3_error(status, code, message, headers=headers)


def fault_response(rule: FaultRule, now: float, v3: bool = False) -> HttpResponse:
    """The answer a replacing fault gives (every fault but the transforming ones and render outcomes).

    :param rule: the rule that fired.
    :param now: the emulator's wall-clock time, for HTTP-date Retry-After values.
    :param v3: the request is on a v3 path: HeyGen's own errors take v3's shape
        ``{"error": {"code", "message", "param", "doc_url"}}``.
    """
    if v3:
        answer = _v3_fault_response(rule)
        if answer is not None:
            return answer
    name = rule.fault
    if name == "unauthorized":
        return responses.unauthorized()
    if name == "forbidden":
        return responses.v2_error(403, "permission_denied", "You do not have permission to access this resource")
    if name == "not_found":
        return responses.v1_error(404, 404, "Resource not found")
    if name == "payment_required":
        return responses.v3_error(402, "insufficient_credit", "Insufficient credit for this request")
    if name in ("rate_limited", "rate_limited_http_date"):
        headers = _retry_after(rule, now, as_date=name == "rate_limited_http_date")
        return responses.v3_error(429, "rate_limit_exceeded", "Too many requests", headers=headers)
    if name == "server_error":
        return responses.v2_error(500, "internal_error", "Internal server error")
    if name == "bad_gateway":
        return json_response(502, {"error": "Bad Gateway"})
    if name == "service_unavailable":
        headers = _retry_after(rule, now, as_date=False)
        return responses.v2_error(503, "service_unavailable", "Service temporarily unavailable", headers)
    if name == "gateway_timeout":
        return json_response(504, {"error": "Gateway Timeout"})
    if name == "html_error_page":
        return HttpResponse(502, HTML_PROXY_PAGE, content_type="text/html; charset=UTF-8")
    if name == "drop":
        return HttpResponse(0, disconnect=CLOSE)
    if name == "reset":
        return HttpResponse(0, disconnect=RESET)
    if name == "empty_body":
        return HttpResponse(200, b"")
    raise ValueError(f"fault {name!r} does not replace an answer")


def transform_response(rule: FaultRule, normal: HttpResponse, now: float, v3: bool = False) -> HttpResponse:
    """The answer of a transforming fault, or of a replacing fault applied after processing.

    :param rule: the rule that fired.
    :param normal: the answer the request would have had.
    :param now: the emulator's wall-clock time.
    :param v3: the request is on a v3 path (see :func:`fault_response`).
    """
    if rule.fault == "slow":
        normal.delay_seconds = rule.delay_seconds
        return normal
    if rule.fault == "truncated_json":
        normal.body = normal.body[: max(1, len(normal.body) // 2)]
        return normal
    if rule.fault == "unknown_status":
        return _with_data_field(normal, "status", UNKNOWN_STATUS_VALUE)
    if rule.fault == "numeric_video_id":
        return _with_data_field(normal, "video_id", NUMERIC_VIDEO_ID)
    return fault_response(rule, now, v3)


def _with_data_field(normal: HttpResponse, name: str, value: Any) -> HttpResponse:
    # Only a field the normal answer has is replaced: the fault alters an answer, it never invents one.
    try:
        payload = json.loads(normal.body)
    except ValueError:
        return normal
    data = payload.get("data") if isinstance(payload, dict) else None
    if isinstance(data, dict) and name in data:
        data[name] = value
        normal.body = json.dumps(payload, separators=(",", ":")).encode()
    return normal
