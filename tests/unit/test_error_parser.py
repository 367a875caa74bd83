"""parse_response: HeyGen's success envelopes, its three error shapes, and bodies that are not HeyGen's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from heygen_provider.exceptions import (
    HeyGenAPIError,
    HeyGenAuthenticationError,
    HeyGenBadRequestError,
    HeyGenError,
    HeyGenIdempotencyConflictError,
    HeyGenInsufficientCreditError,
    HeyGenMalformedResponseError,
    HeyGenNotFoundError,
    HeyGenRateLimitError,
    HeyGenServerError,
    is_retryable,
)
from heygen_provider.hooks.answers import parse_response
from tests.fixtures.connections import API_KEY

V1_UNAUTHORIZED = {"code": 400112, "message": "Unauthorized"}
V2_ERROR = {"data": None, "error": {"code": "invalid_parameter", "message": "avatar_id is invalid"}}
V2_TEXT_ERROR = {"error": "Video not found"}
V3_ERROR = {
    "error": {
        "code": "insufficient_credit",
        "message": "Not enough credits",
        "param": "video_inputs",
        "doc_url": "https://docs.heygen.com/errors",
    }
}
PROXY_502 = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)


def body(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def error_of(status_code: int, raw: bytes, **kwargs: Any) -> HeyGenAPIError:
    with pytest.raises(HeyGenAPIError) as caught:
        parse_response(status_code, raw, **kwargs)
    return caught.value


class TestSuccessEnvelopes:
    @pytest.mark.parametrize(
        "payload",
        [
            {"error": None, "data": {"video_id": "v-1"}},
            {"code": 100, "data": {"video_id": "v-1"}, "message": "Success"},
            {"data": {"video_id": "v-1"}},
        ],
        ids=["v2", "legacy-code-100", "v3"],
    )
    def test_data_is_returned(self, payload: dict[str, Any]) -> None:
        assert parse_response(200, body(payload)) == {"video_id": "v-1"}

    def test_success_with_null_data(self) -> None:
        assert parse_response(200, body({"code": 100, "data": None, "message": "Success"})) is None


class TestErrorShapes:
    @pytest.mark.parametrize(
        ("status_code", "payload", "code", "message"),
        [
            (401, V1_UNAUTHORIZED, 400112, "Unauthorized"),
            (400, V2_ERROR, "invalid_parameter", "avatar_id is invalid"),
            (404, V2_TEXT_ERROR, None, "Video not found"),
            (402, V3_ERROR, "insufficient_credit", "Not enough credits"),
            (400, {"error": {"code": "bad", "detail": "from detail"}}, "bad", "from detail"),
            (401, {"code": 401, "msg": "token expired"}, 401, "token expired"),
        ],
        ids=["v1", "v2", "v2-text", "v3", "detail-instead-of-message", "msg-instead-of-message"],
    )
    def test_code_and_message_are_read(
        self, status_code: int, payload: dict[str, Any], code: Any, message: str
    ) -> None:
        error = error_of(status_code, body(payload))
        assert (error.http_status, error.code, error.message) == (status_code, code, message)

    @pytest.mark.parametrize(
        ("status_code", "payload", "text"),
        [
            (401, V1_UNAUTHORIZED, "HeyGen API error (HTTP 401, code 400112): Unauthorized"),
            (400, V2_ERROR, "HeyGen API error (HTTP 400, code invalid_parameter): avatar_id is invalid"),
            (404, V2_TEXT_ERROR, "HeyGen API error (HTTP 404): Video not found"),
            (
                402,
                V3_ERROR,
                "HeyGen API error (HTTP 402, code insufficient_credit, param video_inputs): Not enough credits",
            ),
        ],
        ids=["v1", "v2", "v2-text", "v3"],
    )
    def test_message_carries_status_code_and_heygen_message(
        self, status_code: int, payload: dict[str, Any], text: str
    ) -> None:
        assert str(error_of(status_code, body(payload))) == text

    def test_the_v3_param_names_the_refused_field(self) -> None:
        # v3's message often omits the field; error.param is where HeyGen says which one it refused.
        payload = {"error": {"code": "invalid_parameter", "message": "value too long", "param": "script"}}
        error = error_of(400, body(payload))
        assert (error.message, error.param) == ("value too long", "script")
        assert str(error) == "HeyGen API error (HTTP 400, code invalid_parameter, param script): value too long"

    @pytest.mark.parametrize("param", [None, "", 7, {"field": "script"}])
    def test_an_odd_or_missing_param_is_left_out(self, param: Any) -> None:
        error = error_of(400, body({"error": {"code": "invalid_parameter", "message": "bad", "param": param}}))
        assert error.param is None
        assert str(error) == "HeyGen API error (HTTP 400, code invalid_parameter): bad"

    def test_error_envelope_inside_http_200_raises(self) -> None:
        error = error_of(200, body(V2_ERROR))
        assert type(error) is HeyGenAPIError
        assert (error.http_status, error.code) == (200, "invalid_parameter")

    def test_legacy_error_code_inside_http_200_raises(self) -> None:
        error = error_of(200, body(V1_UNAUTHORIZED))
        assert str(error) == "HeyGen API error (HTTP 200, code 400112): Unauthorized"

    def test_error_without_a_message(self) -> None:
        assert error_of(422, b"{}").message == "no error message in the response body"


class TestErrorClasses:
    @pytest.mark.parametrize(
        ("status_code", "error_class"),
        [
            (400, HeyGenBadRequestError),
            (413, HeyGenBadRequestError),
            (422, HeyGenBadRequestError),
            (424, HeyGenBadRequestError),
            (401, HeyGenAuthenticationError),
            (403, HeyGenAuthenticationError),
            (404, HeyGenNotFoundError),
            (429, HeyGenRateLimitError),
            (500, HeyGenServerError),
            (502, HeyGenServerError),
            (503, HeyGenServerError),
            (504, HeyGenServerError),
            (599, HeyGenServerError),
            (402, HeyGenInsufficientCreditError),
            (409, HeyGenIdempotencyConflictError),
            (418, HeyGenAPIError),
        ],
    )
    def test_class_per_http_status(self, status_code: int, error_class: type[HeyGenAPIError]) -> None:
        assert type(error_of(status_code, body(V3_ERROR))) is error_class

    def test_payload_too_large_is_not_retried_by_airflow(self) -> None:
        # HeyGen v3 answers 413 payload_too_large for a body over its limit: deterministic, like a 400.
        error = error_of(413, body({"error": {"code": "payload_too_large", "message": "Request body too large"}}))
        assert not is_retryable(error)

    def test_every_api_error_is_a_heygen_error(self) -> None:
        assert isinstance(error_of(429, body(V3_ERROR)), HeyGenError)

    def test_rate_limit_keeps_retry_after(self) -> None:
        error = error_of(429, body({"error": {"code": "rate_limited", "message": "slow down"}}), retry_after=7.0)
        assert isinstance(error, HeyGenRateLimitError)
        assert error.retry_after == 7.0


class TestRedaction:
    def test_key_echoed_in_the_message_is_redacted(self) -> None:
        payload = {"code": 400112, "message": f"Invalid API key {API_KEY}"}
        error = error_of(401, body(payload), secrets=[API_KEY])
        assert API_KEY not in str(error)
        assert error.message == "Invalid API key ***"

    def test_key_echoed_in_the_code_is_redacted(self) -> None:
        error = error_of(401, body({"error": {"code": f"bad_key_{API_KEY}", "message": "no"}}), secrets=[API_KEY])
        assert API_KEY not in str(error)
        assert error.code == "bad_key_***"

    def test_key_echoed_in_an_html_page_is_redacted(self) -> None:
        page = f"<html><head><title>Denied {API_KEY}</title></head></html>".encode()
        error = error_of(403, page, secrets=[API_KEY])
        assert API_KEY not in str(error)
        assert "Denied ***" in str(error)

    def test_no_part_of_the_key_leaks_when_a_long_body_is_truncated(self) -> None:
        page = f"<html><body>{'x' * 190} {API_KEY}</body></html>".encode()
        error = error_of(502, page, secrets=[API_KEY])
        assert API_KEY[:6] not in str(error)


class TestBodiesThatAreNotHeyGens:
    def test_proxy_html_page_gives_its_title(self) -> None:
        error = error_of(502, PROXY_502)
        assert isinstance(error, HeyGenServerError)
        assert str(error) == "HeyGen API error (HTTP 502): response body is not HeyGen's JSON: '502 Bad Gateway'"

    def test_html_without_a_title_is_reduced_to_its_text(self) -> None:
        page = b"<html><body><h1>Service &amp; gateway</h1>\n\n<p>unavailable</p></body></html>"
        assert error_of(503, page).message == "response body is not HeyGen's JSON: 'Service & gateway unavailable'"

    def test_long_body_is_shortened(self) -> None:
        error = error_of(500, b"z" * 5000)
        assert error.message == f"response body is not HeyGen's JSON: '{'z' * 200}...'"

    @pytest.mark.parametrize("status_code", [200, 500])
    def test_empty_body(self, status_code: int) -> None:
        assert error_of(status_code, b"").message == "empty response body (not HeyGen's JSON)"

    @pytest.mark.parametrize("status_code", [200, 503])
    def test_truncated_json(self, status_code: int) -> None:
        error = error_of(status_code, b'{"error": {"code": "x"')
        assert error.message == """response body is not HeyGen's JSON: '{"error": {"code": "x"'"""

    @pytest.mark.parametrize("raw", [b"[1, 2]", b'"ok"', b"<html>Log in to the Wi-Fi</html>"])
    def test_success_status_without_a_json_object_is_a_malformed_answer(self, raw: bytes) -> None:
        error = error_of(200, raw)
        assert type(error) is HeyGenMalformedResponseError
        assert isinstance(error, HeyGenServerError)  # handled like a 5xx: retried for GETs only
        assert error.message.startswith("response body is not HeyGen's JSON")

    def test_undecodable_bytes_do_not_crash_the_parser(self) -> None:
        error = error_of(500, b"\xff\xfe<title>Fehler \xe9</title>")
        assert error.message.startswith("response body is not HeyGen's JSON: 'Fehler")
