"""The ``heygen`` connection turned into request settings: key, base URL, extras, and their refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest

from heygen_provider.connection import (
    DEFAULT_BASE_URL,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_RETRY_ATTEMPTS,
    HeyGenConnectionError,
    HeyGenConnectionSettings,
)
from tests.fixtures.connections import API_KEY


def settings(
    *, host: str | None = None, password: str | None = API_KEY, port: int | None = None, extra: Any = None
) -> HeyGenConnectionSettings:
    return HeyGenConnectionSettings.from_connection("heygen_test", host=host, password=password, port=port, extra=extra)


def refusal(**fields: Any) -> str:
    with pytest.raises(HeyGenConnectionError) as caught:
        settings(**fields)
    message = str(caught.value)
    assert message.startswith("Connection 'heygen_test': ")
    assert API_KEY not in message
    return message


class TestApiKey:
    @pytest.mark.parametrize("password", [None, "", "   \t"])
    def test_missing_or_blank_key_is_refused(self, password: str | None) -> None:
        assert "the API key is missing; put it in the connection's password field" in refusal(password=password)

    def test_surrounding_whitespace_is_trimmed(self) -> None:
        assert settings(password=f"  {API_KEY}\n").api_key == API_KEY

    def test_repr_never_shows_the_key(self) -> None:
        text = repr(settings(extra={"auth_type": "bearer"}))
        assert API_KEY not in text
        assert "heygen_test" in text  # the repr is still useful

    def test_api_key_header_by_default(self) -> None:
        assert settings().auth_headers == {"X-Api-Key": API_KEY}

    def test_bearer_header_for_oauth_tokens(self) -> None:
        assert settings(extra={"auth_type": "bearer"}).auth_headers == {"Authorization": f"Bearer {API_KEY}"}


class TestBaseUrl:
    @pytest.mark.parametrize("host", [None, "", "  "])
    def test_default_base_url(self, host: str | None) -> None:
        assert settings(host=host).base_url == DEFAULT_BASE_URL == "https://api.heygen.com"

    @pytest.mark.parametrize(
        ("host", "port", "base_url"),
        [
            ("api.heygen.com", None, "https://api.heygen.com"),
            ("proxy.internal", 8443, "https://proxy.internal:8443"),
            ("https://api.heygen.com/", None, "https://api.heygen.com"),
            ("https://gateway.example.com/heygen/", None, "https://gateway.example.com/heygen"),
            ("https://gateway.example.com:9443", 1234, "https://gateway.example.com:9443"),
            ("http://127.0.0.1", 8000, "http://127.0.0.1:8000"),
            ("https://user:secret@gateway.example.com", None, "https://gateway.example.com"),
        ],
        ids=["bare-host", "bare-host-port", "trailing-slash", "path", "url-port-wins", "port-field", "userinfo"],
    )
    def test_normalisation(self, host: str, port: int | None, base_url: str) -> None:
        assert settings(host=host, port=port).base_url == base_url

    def test_url_joins_the_api_path(self) -> None:
        assert settings(host="https://gateway.example.com/heygen/").url("/v2/avatars") == (
            "https://gateway.example.com/heygen/v2/avatars"
        )

    @pytest.mark.parametrize(
        "host",
        [
            "http://127.0.0.1",
            "http://127.5.5.5:8080",
            "http://localhost:8000",
            "http://LOCALHOST",
            "http://[::1]:8000",
        ],
    )
    def test_plain_http_is_accepted_for_loopback(self, host: str) -> None:
        assert settings(host=host).base_url == host

    @pytest.mark.parametrize(
        "host",
        [
            "http://api.heygen.com",
            "http://10.0.0.5:8000",
            "http://localhost.example.com",
            "http://127.0.0.1.nip.io",
            f"http://user:{API_KEY}@example.com",
        ],
    )
    def test_plain_http_is_refused_elsewhere_without_showing_the_key(self, host: str) -> None:
        assert "uses http://, which would send the API key in clear text; use https://" in refusal(host=host)

    @pytest.mark.parametrize("host", ["ftp://files.example.com", "https://", "file:///etc/hosts"])
    def test_other_schemes_are_refused(self, host: str) -> None:
        assert "host must be an https:// base URL such as 'https://api.heygen.com'" in refusal(host=host)

    @pytest.mark.parametrize(
        ("host", "port"),
        [("https://api.heygen.com:notaport", None), ("https://api.heygen.com:99999", None), ("https://h:x", 443)],
        ids=["text-port", "out-of-range-port", "text-port-with-port-field"],
    )
    def test_malformed_port_is_refused_naming_the_connection(self, host: str, port: int | None) -> None:
        assert "port" in refusal(host=host, port=port)


class TestExtras:
    def test_defaults(self) -> None:
        result = settings()
        assert (result.auth_type, result.request_timeout, result.retry_attempts) == (
            "api_key",
            DEFAULT_REQUEST_TIMEOUT,
            DEFAULT_RETRY_ATTEMPTS,
        )

    @pytest.mark.parametrize(
        "extra",
        [
            json.dumps({"request_timeout": 12.5, "retry_attempts": 3, "auth_type": "bearer"}),
            {"request_timeout": "12.5", "retry_attempts": "3", "auth_type": "bearer"},
            {
                "extra__heygen__request_timeout": 12.5,
                "extra__heygen__retry_attempts": 3,
                "extra__heygen__auth_type": "bearer",
            },
        ],
        ids=["json-string", "dict-of-strings", "legacy-prefix"],
    )
    def test_extras_are_read(self, extra: Any) -> None:
        result = settings(extra=extra)
        assert (result.request_timeout, result.retry_attempts, result.auth_type) == (12.5, 3, "bearer")
        assert isinstance(result.retry_attempts, int)

    @pytest.mark.parametrize("extra", [None, "", "{}", {"request_timeout": None, "retry_attempts": ""}])
    def test_empty_values_keep_defaults(self, extra: Any) -> None:
        result = settings(extra=extra)
        assert (result.request_timeout, result.retry_attempts) == (DEFAULT_REQUEST_TIMEOUT, DEFAULT_RETRY_ATTEMPTS)

    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            (
                {"timeout": 5},
                "extra 'timeout' is not a known field "
                "(known: api_version, auth_type, create_timeout, request_timeout, retry_attempts, video_status_path).",
            ),
            ('{"request_timeout": 5,}', "extra is not valid JSON (Expecting property name enclosed in double"),
            ("[1, 2]", "extra must be a JSON object."),
            ({"request_timeout": "slow"}, "extra 'request_timeout' must be a number (got 'slow')."),
            ({"request_timeout": 0.5}, "extra 'request_timeout' must be between 1 and 600 (got 0.5)."),
            ({"request_timeout": 601}, "extra 'request_timeout' must be between 1 and 600 (got 601)."),
            ({"request_timeout": float("nan")}, "extra 'request_timeout' must be between 1 and 600 (got nan)."),
            ({"retry_attempts": 2.5}, "extra 'retry_attempts' must be a whole number (got 2.5)."),
            ({"retry_attempts": True}, "extra 'retry_attempts' must be a whole number (got True)."),
            ({"retry_attempts": 0}, "extra 'retry_attempts' must be between 1 and 10 (got 0)."),
            ({"retry_attempts": 11}, "extra 'retry_attempts' must be between 1 and 10 (got 11)."),
            ({"auth_type": "basic"}, "extra 'auth_type' must be one of api_key, bearer (got 'basic')."),
        ],
        ids=[
            "unknown-key",
            "malformed-json",
            "not-an-object",
            "timeout-text",
            "timeout-low",
            "timeout-high",
            "timeout-nan",
            "attempts-fraction",
            "attempts-bool",
            "attempts-low",
            "attempts-high",
            "auth-type",
        ],
    )
    def test_bad_extras_are_refused(self, extra: Any, message: str) -> None:
        assert message in refusal(extra=extra)

    def test_the_key_is_checked_before_the_extras(self) -> None:
        assert "API key is missing" in refusal(password="", extra="not json")


class TestVideoStatusPath:
    def test_the_extra_sets_the_status_path(self) -> None:
        settings = HeyGenConnectionSettings.from_connection(
            "heygen_default",
            host=None,
            password="key",
            port=None,
            extra={"video_status_path": "/v3/videos/{video_id}"},
        )
        assert settings.video_status_path == "/v3/videos/{video_id}"

    @pytest.mark.parametrize("value", ["v3/videos/{video_id}", 3, "https://api.heygen.com/v3/videos"])
    def test_a_status_path_must_be_an_absolute_api_path(self, value: object) -> None:
        with pytest.raises(HeyGenConnectionError, match="video_status_path"):
            HeyGenConnectionSettings.from_connection(
                "heygen_default", host=None, password="key", port=None, extra={"video_status_path": value}
            )


class TestPort:
    @pytest.mark.parametrize(
        ("host", "port", "base_url"),
        [
            ("http://127.0.0.1:8000", 0, "http://127.0.0.1:8000"),
            ("api.heygen.com", 0, "https://api.heygen.com"),
            ("api.heygen.com", None, "https://api.heygen.com"),
            ("gateway.example.com", 8443, "https://gateway.example.com:8443"),
            ("http://127.0.0.1:8000", 9000, "http://127.0.0.1:8000"),
        ],
        ids=["zero-with-url-port", "zero-bare-host", "none", "bare-host-port", "url-port-wins"],
    )
    def test_port_zero_means_no_port(self, host: str, port: int | None, base_url: str) -> None:
        # Airflow 3.3.2's connection form sends port 0 for a connection that has none.
        settings = HeyGenConnectionSettings.from_connection(
            "heygen_default", host=host, password="key", port=port, extra={}
        )
        assert settings.base_url == base_url
