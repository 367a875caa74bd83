"""HeyGen's answer envelopes: the three error body shapes and the two success shapes."""

from __future__ import annotations

from typing import Any

from heygen_provider.testing.emulator.messages import HttpResponse, json_response

LEGACY_SUCCESS_CODE = 100
UNAUTHORIZED_CODE = 400112
DOCS_URL = "https://docs.heygen.com/reference"


def v2_success(data: Any) -> HttpResponse:
    """``{"error": null, "data": ...}``, the v2 success envelope.

    :param data: the payload.
    """
    return json_response(200, {"error": None, "data": data})


def legacy_success(data: Any) -> HttpResponse:
    """``{"code": 100, "data": ..., "message": "Success"}``, the v1 success envelope.

    :param data: the payload.
    """
    return json_response(200, {"code": LEGACY_SUCCESS_CODE, "data": data, "message": "Success"})


def v1_error(status: int, code: int, message: str) -> HttpResponse:
    """A v1-style error: ``{"code": <int>, "data": null, "message": "..."}``.

    :param status: HTTP status.
    :param code: HeyGen's numeric code.
    :param message: the reason.
    """
    return json_response(status, {"code": code, "data": None, "message": message})


def v2_error(status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    """A v2-style error: ``{"data": null, "error": {"code": "<snake_case>", "message": "..."}}``.

    :param status: HTTP status.
    :param code: HeyGen's snake-case code.
    :param message: the reason.
    :param headers: further headers, such as Retry-After.
    """
    return json_response(status, {"data": None, "error": {"code": code, "message": message}}, headers)


def v3_error(
    status: int,
    code: str,
    message: str,
    param: str | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> HttpResponse:
    """A v3-style error: ``{"error": {"code", "message", "param", "doc_url"}}``.

    :param status: HTTP status.
    :param code: HeyGen's snake-case code.
    :param message: the reason.
    :param param: the offending parameter, if any.
    :param headers: further headers, such as Retry-After.
    """
    body = {"error": {"code": code, "message": message, "param": param, "doc_url": DOCS_URL}}
    return json_response(status, body, headers)


def v3_success(data: Any, status: int = 200) -> HttpResponse:
    """``{"data": ...}``, the v3 success envelope.

    :param data: the payload.
    :param status: HTTP status.
    """
    return json_response(status, {"data": data})


def v3_page(items: list[Any], next_token: str | None) -> HttpResponse:
    """A page of a v3 listing: ``{"data": [...], "has_more", "next_token"}``.

    :param items: this page's items.
    :param next_token: the cursor of the next page, ``None`` on the last one.
    """
    return json_response(200, {"data": items, "has_more": next_token is not None, "next_token": next_token})


def v3_unauthorized() -> HttpResponse:
    """v3's answer to a missing or unknown credential: HTTP 401 ``{"error": {"code": "unauthorized", ...}}``."""
    return v3_error(401, "unauthorized", "Invalid or missing API key. Send your key in the X-Api-Key header.")


#: What a retired route answers: a web server's own 404 page, not a HeyGen body.
RETIRED_PAGE = b"""<!DOCTYPE html>
<html><head><title>404 Not Found</title></head>
<body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>
"""


def retired() -> HttpResponse:
    """The answer of a legacy path once the legacy API is retired: HTTP 404 with an HTML page."""
    return HttpResponse(404, RETIRED_PAGE, content_type="text/html; charset=utf-8")


def unauthorized() -> HttpResponse:
    """HeyGen's real answer to a missing or unknown key: HTTP 401 ``{"code": 400112, "message": "Unauthorized"}``."""
    return json_response(401, {"code": UNAUTHORIZED_CODE, "message": "Unauthorized"})


def video_not_found(video_id: str) -> HttpResponse:
    """The legacy status endpoint's answer for an id it does not know.

    :param video_id: the id asked for.
    """
    return v1_error(404, 404, f"Video not found: {video_id}")
