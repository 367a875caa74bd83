"""The media download at the HTTP boundary (requests-mock): retries, expiry, atomic writes, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from airflow.sdk import ObjectStoragePath

from heygen_provider.exceptions import HeyGenDownloadError, HeyGenServerError, MediaUrlExpired
from heygen_provider.hooks.download import download_media
from heygen_provider.retry import RetryPolicy

URL = "https://cdn.heygen.example/videos/vid-1.mp4?Expires=1&Signature=secret-signature"
BODY = b"\x00\x00\x00\x18ftypmp42" * 1000


@pytest.fixture
def sleeps() -> list[float]:
    return []


def download(tmp_path: Path, sleeps: list[float], *, attempts: int = 3) -> Any:
    return download_media(
        requests.Session(),
        URL,
        ObjectStoragePath(f"file://{tmp_path}/out/vid-1.mp4"),
        retry_policy=RetryPolicy(attempts=attempts, random_fraction=lambda: 0.0),
        timeout=(1.0, 1.0),
        chunk_size=4096,
        sleep=sleeps.append,
    )


def files_under(tmp_path: Path) -> list[str]:
    return sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file())


class TestServerErrors:
    def test_a_cdn_503_that_lasts_is_a_download_error(
        self, tmp_path: Path, sleeps: list[float], requests_mock: Any
    ) -> None:
        requests_mock.get(URL, status_code=503, text="<html>busy</html>")
        with pytest.raises(HeyGenDownloadError) as caught:
            download(tmp_path, sleeps)
        assert not isinstance(caught.value, HeyGenServerError)
        assert "HTTP 503" in str(caught.value)
        assert "secret-signature" not in str(caught.value)
        assert requests_mock.call_count == 3
        assert sleeps == [0.5, 1.0]
        assert files_under(tmp_path) == []

    def test_a_503_then_the_file(self, tmp_path: Path, sleeps: list[float], requests_mock: Any) -> None:
        requests_mock.get(URL, [{"status_code": 503}, {"content": BODY, "headers": {"Content-Length": str(len(BODY))}}])
        result = download(tmp_path, sleeps)
        assert (result.size, result.skipped) == (len(BODY), False)
        assert (tmp_path / "out" / "vid-1.mp4").read_bytes() == BODY
        assert files_under(tmp_path) == ["out/vid-1.mp4"]

    def test_a_429_waits_as_told(self, tmp_path: Path, sleeps: list[float], requests_mock: Any) -> None:
        requests_mock.get(URL, [{"status_code": 429, "headers": {"Retry-After": "7"}}, {"content": BODY}])
        download(tmp_path, sleeps)
        assert sleeps == [7.0]


class TestRefusals:
    @pytest.mark.parametrize("status_code", [401, 403, 410])
    def test_an_expired_signed_url(
        self, tmp_path: Path, sleeps: list[float], requests_mock: Any, status_code: int
    ) -> None:
        requests_mock.get(URL, status_code=status_code)
        with pytest.raises(MediaUrlExpired):
            download(tmp_path, sleeps)
        assert requests_mock.call_count == 1

    def test_a_404_is_not_retried(self, tmp_path: Path, sleeps: list[float], requests_mock: Any) -> None:
        requests_mock.get(URL, status_code=404)
        with pytest.raises(HeyGenDownloadError, match="HTTP 404"):
            download(tmp_path, sleeps)
        assert requests_mock.call_count == 1


class TestBrokenTransfers:
    def test_a_short_body_is_retried_and_never_left_behind(
        self, tmp_path: Path, sleeps: list[float], requests_mock: Any
    ) -> None:
        short = {"content": BODY[:100], "headers": {"Content-Length": str(len(BODY))}}
        requests_mock.get(URL, [short, short])
        with pytest.raises(HeyGenDownloadError, match="after 2 attempt"):
            download(tmp_path, sleeps, attempts=2)
        assert files_under(tmp_path) == []

    def test_a_reset_connection_is_retried(self, tmp_path: Path, sleeps: list[float], requests_mock: Any) -> None:
        requests_mock.get(URL, [{"exc": requests.ConnectionError("reset by peer")}, {"content": BODY}])
        assert download(tmp_path, sleeps).size == len(BODY)
        assert len(sleeps) == 1


class TestIdempotence:
    def test_a_complete_file_is_not_written_again(
        self, tmp_path: Path, sleeps: list[float], requests_mock: Any
    ) -> None:
        requests_mock.get(URL, content=BODY, headers={"Content-Length": str(len(BODY)), "ETag": '"abc"'})
        download(tmp_path, sleeps)
        assert download(tmp_path, sleeps).skipped

    def test_no_credential_reaches_the_media_host(
        self, tmp_path: Path, sleeps: list[float], requests_mock: Any
    ) -> None:
        requests_mock.get(URL, content=BODY)
        download(tmp_path, sleeps)
        headers = requests_mock.last_request.headers
        assert "X-Api-Key" not in headers and "Authorization" not in headers
