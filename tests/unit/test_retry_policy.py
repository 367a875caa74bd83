"""The retry policy shared by the sync, async and download paths: what is retried, when, and for how long."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator

import pytest

from heygen_provider.exceptions import (
    HeyGenAPIError,
    HeyGenAuthenticationError,
    HeyGenBadRequestError,
    HeyGenError,
    HeyGenMalformedResponseError,
    HeyGenNotFoundError,
    HeyGenRateLimitError,
    HeyGenServerError,
    HeyGenTransportError,
)
from heygen_provider.hooks.answers import error_class_for_status
from heygen_provider.hooks.calls import final_error, read_answer, transport_error
from heygen_provider.retry import RetryPolicy, RetryState, TransportFailure, parse_retry_after

NOW = 1_750_000_000.0


def fixed_now() -> float:
    return NOW


def http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


def policy(attempts: int = 5, *, fraction: float = 0.0, **kwargs: float) -> RetryPolicy:
    """A policy with deterministic jitter: ``fraction`` is what random.random() would return."""
    return RetryPolicy(attempts=attempts, random_fraction=lambda: fraction, **kwargs)


def start(method: str, attempts: int = 5, *, idempotent: bool | None = None, **kwargs: float) -> RetryState:
    return policy(attempts, **kwargs).start(method, idempotent=idempotent)


def answered(status_code: int, retry_after: float | None = None) -> HeyGenAPIError:
    return error_class_for_status(status_code)("boom", status_code=status_code, retry_after=retry_after)


def no_answer(failure: TransportFailure) -> HeyGenTransportError:
    return transport_error("GET", failure, "down")


class TestRateLimit:
    @pytest.mark.parametrize("method", ["POST", "GET", "post"])
    def test_429_is_retried_for_every_method(self, method: str) -> None:
        assert start(method).delay_after(answered(429)) == 1.0 * 0.5  # the first back-off step, jitter 0

    def test_retry_after_seconds_is_honoured(self) -> None:
        assert start("POST").delay_after(answered(429, retry_after=7.0)) == 7.0

    def test_retry_after_never_shortens_the_back_off(self) -> None:
        assert start("GET", initial_delay=4.0).delay_after(answered(429, retry_after=1.0)) == 2.0

    def test_retry_after_is_capped(self) -> None:
        assert start("POST", max_retry_after=60.0).delay_after(answered(429, retry_after=3600.0)) == 60.0

    def test_capped_retry_after_for_waiters_that_do_not_retry(self) -> None:
        capped = policy(max_retry_after=60.0)
        assert capped.capped_retry_after(answered(429, retry_after=86_400.0)) == 60.0
        assert capped.capped_retry_after(answered(429, retry_after=-3.0)) == 0.0
        assert capped.capped_retry_after(answered(500)) is None

    def test_after_the_last_attempt_the_policy_gives_up(self) -> None:
        state = start("POST", attempts=2)
        assert state.delay_after(answered(429, retry_after=3.0)) == 3.0
        assert state.delay_after(answered(429, retry_after=3.0)) is None


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
        with pytest.raises(HeyGenRateLimitError) as caught:
            read_answer(429, b'{"error": {"code": "rate_limited", "message": "slow"}}', {"Retry-After": in_a_day}, ())
        assert start("POST", max_retry_after=90.0).delay_after(caught.value) == 90.0


class TestServerErrors:
    @pytest.mark.parametrize("status_code", [500, 502, 503, 504])
    def test_5xx_is_retried_for_get(self, status_code: int) -> None:
        assert start("GET").delay_after(answered(status_code)) == 0.5

    @pytest.mark.parametrize("status_code", [500, 502, 503, 504])
    def test_5xx_is_never_retried_for_post(self, status_code: int) -> None:
        assert start("POST").delay_after(answered(status_code, retry_after=1.0)) is None

    @pytest.mark.parametrize("status_code", [500, 503])
    def test_5xx_is_retried_for_a_post_that_is_idempotent(self, status_code: int) -> None:
        # A create that carries an idempotency key: sending it again cannot pay twice.
        assert start("POST", idempotent=True).delay_after(answered(status_code)) == 0.5

    @pytest.mark.parametrize("status_code", [400, 401, 402, 403, 404, 424, 501])
    def test_other_errors_are_not_retried_even_for_get(self, status_code: int) -> None:
        assert start("GET").delay_after(answered(status_code)) is None

    def test_unreadable_success_answer_is_retried_for_get_only(self) -> None:
        unreadable = HeyGenMalformedResponseError("portal", status_code=200)
        assert start("GET").delay_after(unreadable) == 0.5
        assert start("POST").delay_after(unreadable) is None
        assert start("GET", attempts=1).delay_after(unreadable) is None


class TestTransportFailures:
    @pytest.mark.parametrize("method", ["POST", "GET"])
    def test_not_connected_is_retried_for_every_method(self, method: str) -> None:
        assert start(method).delay_after(no_answer(TransportFailure.NOT_CONNECTED)) == 0.5

    def test_no_response_is_retried_for_get_and_idempotent_posts_only(self) -> None:
        lost = no_answer(TransportFailure.NO_RESPONSE)
        assert start("GET").delay_after(lost) == 0.5
        assert start("POST", idempotent=True).delay_after(lost) == 0.5
        assert start("POST").delay_after(lost) is None

    def test_a_post_that_may_have_reached_heygen_says_why_it_was_not_retried(self) -> None:
        state = start("POST")
        lost = transport_error("POST", TransportFailure.NO_RESPONSE, "connection reset")
        assert state.delay_after(lost) is None
        final = final_error(lost, state)
        assert isinstance(final, HeyGenTransportError) and final.request_may_have_reached_server
        assert "reached HeyGen and a second create would be paid for twice" in str(final)

    @pytest.mark.parametrize(
        ("failure", "reached"), [(TransportFailure.NOT_CONNECTED, False), (TransportFailure.NO_RESPONSE, True)]
    )
    def test_attempts_run_out(self, failure: TransportFailure, reached: bool) -> None:
        state = start("GET", attempts=3)
        error = no_answer(failure)
        assert state.delay_after(error) is not None
        assert state.delay_after(error) is not None
        assert state.delay_after(error) is None
        final = final_error(error, state)
        assert isinstance(final, HeyGenTransportError)
        assert final.request_may_have_reached_server is reached
        assert str(final) == "GET request to HeyGen failed: down after 3 attempt(s)"


class TestDecidesByClassOnly:
    @pytest.mark.parametrize(
        "error",
        [
            HeyGenAuthenticationError("bad key", status_code=401),
            HeyGenBadRequestError("bad", status_code=400),
            HeyGenNotFoundError("gone", status_code=404),
            HeyGenError("anything else"),
        ],
        ids=["auth", "bad-request", "not-found", "plain"],
    )
    def test_faults_that_waiting_cannot_mend_are_never_retried(self, error: HeyGenError) -> None:
        assert start("GET").delay_after(error) is None

    def test_giving_up_keeps_an_api_error_as_it_is(self) -> None:
        error = answered(503)
        state = start("GET", attempts=1)
        assert state.delay_after(error) is None
        assert final_error(error, state) is error


class TestAttemptsAndBackOff:
    def attempts_until_given_up(self, state: RetryState) -> Iterator[int]:
        while state.delay_after(answered(503)) is not None:
            yield state.attempt

    @pytest.mark.parametrize("attempts", [1, 2, 5])
    def test_attempts_count_the_first_request(self, attempts: int) -> None:
        retries = list(self.attempts_until_given_up(start("GET", attempts=attempts)))
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
        assert [state.delay_after(answered(503)) for _ in range(3)] == [1.0, 2.0, 4.0]


class TestReadAnswer:
    def test_secrets_are_blanked_out_of_the_parsed_error(self) -> None:
        echo = b'{"code": 400112, "message": "bad key hg-secret"}'
        with pytest.raises(HeyGenAuthenticationError, match=r"bad key \*\*\*"):
            read_answer(401, echo, {}, ["hg-secret"])

    def test_retry_after_is_kept_on_the_error(self) -> None:
        with pytest.raises(HeyGenServerError) as caught:
            read_answer(503, b"{}", {"Retry-After": "9"}, ())
        assert caught.value.retry_after == 9.0

    def test_success_returns_the_data(self) -> None:
        assert read_answer(200, b'{"error": null, "data": {"video_id": "v-1"}}', {}, ()) == {"video_id": "v-1"}
