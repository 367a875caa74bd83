"""The retry policy shared by the sync and async paths: what is retried, when, and for how long."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Iterator

import pytest

from heygen_provider.exceptions import (
    HeyGenMalformedResponseError,
    HeyGenRateLimitError,
    HeyGenServerError,
    HeyGenTransportError,
)
from heygen_provider.retry import RetryPolicy, RetryState, TransportFailure, parse_retry_after

OK = json.dumps({"error": None, "data": {"video_id": "v-1"}}).encode()
RATE_LIMITED = json.dumps({"error": {"code": "rate_limited", "message": "Too many requests"}}).encode()
SERVER_ERROR = json.dumps({"error": {"code": "internal", "message": "boom"}}).encode()
NOW = 1_750_000_000.0


def fixed_now() -> float:
    return NOW


def http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


def policy(attempts: int = 5, *, fraction: float = 0.0, **kwargs: float) -> RetryPolicy:
    """A policy with deterministic jitter: ``fraction`` is what random.random() would return."""
    return RetryPolicy(attempts=attempts, random_fraction=lambda: fraction, **kwargs)


def start(method: str, attempts: int = 5, **kwargs: float) -> RetryState:
    return policy(attempts, **kwargs).start(method)


class TestRateLimit:
    @pytest.mark.parametrize("method", ["POST", "GET", "post"])
    def test_429_is_retried_for_every_method(self, method: str) -> None:
        verdict = start(method).delay_after_response(429, RATE_LIMITED, {})
        assert verdict.retry_in == 1.0 * 0.5  # the first back-off step, jitter fraction 0

    def test_retry_after_seconds_is_honoured(self) -> None:
        verdict = start("POST").delay_after_response(429, RATE_LIMITED, {"Retry-After": "7"})
        assert verdict.retry_in == 7.0

    def test_retry_after_never_shortens_the_back_off(self) -> None:
        state = start("GET", initial_delay=4.0)
        assert state.delay_after_response(429, RATE_LIMITED, {"Retry-After": "1"}).retry_in == 2.0

    def test_retry_after_is_capped(self) -> None:
        state = start("POST", max_retry_after=60.0)
        assert state.delay_after_response(429, RATE_LIMITED, {"Retry-After": "3600"}).retry_in == 60.0

    def test_after_the_last_attempt_the_rate_limit_error_is_raised(self) -> None:
        state = start("POST", attempts=2)
        state.delay_after_response(429, RATE_LIMITED, {"Retry-After": "3"})
        with pytest.raises(HeyGenRateLimitError) as caught:
            state.delay_after_response(429, RATE_LIMITED, {"Retry-After": "3"})
        assert (caught.value.http_status, caught.value.retry_after) == (429, 3.0)


class TestRetryAfterHeader:
    @pytest.mark.parametrize(
        ("value", "seconds"),
        [
            ("120", 120.0),
            (" 2.5 ", 2.5),
            ("0", 0.0),
            ("-5", 0.0),
            (http_date(NOW + 90), 90.0),
            (http_date(NOW - 30), 0.0),
            (None, None),
            ("", None),
            ("soon", None),
        ],
        ids=["seconds", "fraction", "zero", "negative", "future-date", "past-date", "absent", "blank", "garbage"],
    )
    def test_parse(self, value: str | None, seconds: float | None) -> None:
        assert parse_retry_after(value, now=fixed_now) == seconds

    def test_http_date_in_a_response_is_honoured_and_capped(self) -> None:
        # A date a day ahead of the real clock: only a parsed date can reach the cap.
        in_a_day = http_date(time.time() + 86_400)
        verdict = start("POST", max_retry_after=90.0).delay_after_response(429, RATE_LIMITED, {"Retry-After": in_a_day})
        assert verdict.retry_in == 90.0


class TestServerErrors:
    @pytest.mark.parametrize("status_code", [500, 502, 503, 504])
    def test_5xx_is_retried_for_get(self, status_code: int) -> None:
        assert start("GET").delay_after_response(status_code, SERVER_ERROR, {}).retry_in == 0.5

    @pytest.mark.parametrize("status_code", [500, 502, 503, 504])
    def test_5xx_is_never_retried_for_post(self, status_code: int) -> None:
        state = start("POST")
        with pytest.raises(HeyGenServerError) as caught:
            state.delay_after_response(status_code, SERVER_ERROR, {"Retry-After": "1"})
        assert caught.value.http_status == status_code
        assert state.attempt == 1

    @pytest.mark.parametrize("status_code", [400, 401, 403, 404, 424, 501])
    def test_other_errors_are_not_retried_even_for_get(self, status_code: int) -> None:
        with pytest.raises(Exception) as caught:
            start("GET").delay_after_response(status_code, SERVER_ERROR, {})
        assert caught.value.http_status == status_code  # type: ignore[attr-defined]

    def test_unreadable_success_answer_is_retried_for_get(self) -> None:
        state = start("GET")
        assert state.delay_after_response(200, b"<html>portal</html>", {}).retry_in == 0.5
        assert state.attempt == 2

    def test_unreadable_answer_to_a_post_is_never_retried(self) -> None:
        # The create call may well have created the video: sending it again could pay twice.
        with pytest.raises(HeyGenMalformedResponseError):
            start("POST").delay_after_response(200, b'{"data": {"video_id"', {})

    def test_unreadable_success_answer_after_the_last_attempt(self) -> None:
        with pytest.raises(HeyGenMalformedResponseError):
            start("GET", attempts=1).delay_after_response(200, b"", {})

    def test_success_returns_the_data(self) -> None:
        verdict = start("POST").delay_after_response(200, OK, {})
        assert (verdict.data, verdict.retry_in) == ({"video_id": "v-1"}, None)


class TestTransportFailures:
    @pytest.mark.parametrize("method", ["POST", "GET"])
    def test_not_connected_is_retried_for_every_method(self, method: str) -> None:
        state = start(method)
        assert state.delay_after_transport_error(TransportFailure.NOT_CONNECTED, "refused") == 0.5
        assert state.attempt == 2

    def test_no_response_is_retried_for_get(self) -> None:
        assert start("GET").delay_after_transport_error(TransportFailure.NO_RESPONSE, "read timeout") == 0.5

    def test_no_response_is_never_retried_for_post(self) -> None:
        with pytest.raises(HeyGenTransportError) as caught:
            start("POST").delay_after_transport_error(TransportFailure.NO_RESPONSE, "connection reset")
        assert caught.value.request_may_have_reached_server is True
        assert str(caught.value) == (
            "POST request to HeyGen failed: connection reset; not retried, because the request may have "
            "reached HeyGen and a second create would be paid for twice"
        )

    @pytest.mark.parametrize(
        ("failure", "reached"), [(TransportFailure.NOT_CONNECTED, False), (TransportFailure.NO_RESPONSE, True)]
    )
    def test_attempts_run_out(self, failure: TransportFailure, reached: bool) -> None:
        state = start("GET", attempts=3)
        state.delay_after_transport_error(failure, "down")
        state.delay_after_transport_error(failure, "down")
        with pytest.raises(HeyGenTransportError) as caught:
            state.delay_after_transport_error(failure, "down")
        assert caught.value.request_may_have_reached_server is reached
        assert str(caught.value) == "GET request to HeyGen failed: down after 3 attempt(s)"


class TestAttemptsAndBackOff:
    def attempts_until_error(self, state: RetryState) -> Iterator[int]:
        while True:
            try:
                state.delay_after_response(503, SERVER_ERROR, {})
            except HeyGenServerError:
                return
            yield state.attempt

    @pytest.mark.parametrize("attempts", [1, 2, 5])
    def test_attempts_count_the_first_request(self, attempts: int) -> None:
        retries = list(self.attempts_until_error(start("GET", attempts=attempts)))
        assert len(retries) == attempts - 1

    def test_back_off_doubles_until_capped(self) -> None:
        no_jitter = policy(fraction=1.0, initial_delay=1.0, max_delay=10.0)
        assert [no_jitter.backoff(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]

    @pytest.mark.parametrize("fraction", [0.0, 0.3, 0.999])
    def test_jitter_stays_between_half_and_the_full_step(self, fraction: float) -> None:
        jittered = policy(fraction=fraction, initial_delay=2.0, max_delay=30.0)
        for retry_number in range(1, 8):
            ceiling = min(30.0, 2.0 * 2 ** (retry_number - 1))
            assert ceiling / 2 <= jittered.backoff(retry_number) <= ceiling

    def test_jitter_uses_the_random_source(self) -> None:
        assert policy(fraction=0.0).backoff(3) != policy(fraction=0.5).backoff(3)

    def test_consecutive_retries_back_off_further(self) -> None:
        state = start("GET", fraction=1.0)
        delays = [state.delay_after_response(503, SERVER_ERROR, {}).retry_in for _ in range(3)]
        assert delays == [1.0, 2.0, 4.0]

    def test_secrets_are_passed_to_the_parser(self) -> None:
        echo = json.dumps({"code": 400112, "message": "bad key hg-secret"}).encode()
        with pytest.raises(Exception, match=r"bad key \*\*\*"):
            RetryPolicy().start("GET", secrets=["hg-secret"]).delay_after_response(401, echo, {})
