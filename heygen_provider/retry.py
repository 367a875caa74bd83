"""
The retry policy, shared by the sync hook (requests) and the async path (aiohttp).

The rules follow what HeyGen documents (``docs/reliability``):

* 429 is always retried, POST included: HeyGen refused the request without doing the work.
  ``Retry-After`` is honoured, in seconds or as an HTTP date, and capped.
* 5xx, connection resets and read timeouts are retried for GETs only. The legacy create call has no
  idempotency key, so a POST that may have reached HeyGen is never sent again: that could pay for a
  second render.
* A 2xx answer that is not HeyGen's JSON is retried like a 5xx: for GETs only.
* A connection that could not be established at all never carried the request, so it is retried for
  every method.
* Back-off is exponential from :attr:`RetryPolicy.initial_delay` with full jitter.

Each transport keeps only a small loop: send, then ask :meth:`RetryState.delay_after_response` or
:meth:`RetryState.delay_after_transport_error` how long to wait, or get the final exception.
"""

from __future__ import annotations

import email.utils
import enum
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from heygen_provider.exceptions import HeyGenMalformedResponseError, HeyGenTransportError, parse_response

RETRYABLE_GET_STATUSES = frozenset({500, 502, 503, 504})
RATE_LIMITED = 429


class TransportFailure(enum.Enum):
    """What went wrong when no HTTP answer arrived."""

    #: The connection was never established (refused, DNS, connect timeout): nothing was sent.
    NOT_CONNECTED = "not_connected"
    #: The request was (or may have been) sent, then the connection broke or the read timed out.
    NO_RESPONSE = "no_response"


@dataclass(frozen=True)
class RetryPolicy:
    """
    How often and how long to retry one API call.

    :param attempts: attempts in all, counting the first (the connection's ``retry_attempts``).
    :param initial_delay: seconds before the first retry; doubles each time.
    :param max_delay: cap of the exponential back-off, in seconds.
    :param max_retry_after: cap on a server's ``Retry-After``, in seconds.
    """

    attempts: int = 5
    initial_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    random_fraction: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def start(self, method: str, *, secrets: Iterable[str] = ()) -> RetryState:
        """Begin the retry bookkeeping of one call."""
        return RetryState(self, method.upper(), tuple(secrets))

    def backoff(self, retry_number: int) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry), with full jitter."""
        ceiling = min(self.max_delay, self.initial_delay * 2 ** (retry_number - 1))
        return float(ceiling * (0.5 + 0.5 * self.random_fraction()))


@dataclass(frozen=True)
class Verdict:
    """What to do with an HTTP answer: return ``data``, or retry in ``retry_in`` seconds."""

    data: Any = None
    retry_in: float | None = None


@dataclass
class RetryState:
    """The retry bookkeeping of one call; made by :meth:`RetryPolicy.start`."""

    policy: RetryPolicy
    method: str
    secrets: tuple[str, ...]
    attempt: int = 1

    @property
    def idempotent(self) -> bool:
        return self.method in ("GET", "HEAD", "OPTIONS", "DELETE")

    def delay_after_response(self, status_code: int, body: bytes, headers: Mapping[str, str]) -> Verdict:
        """
        Judge an HTTP answer.

        :returns: the answer's data for a success, or the seconds to wait before retrying.
        :raises HeyGenAPIError: the parsed error when the call must not, or may no longer, be retried.
        """
        if status_code < 400:
            try:
                return Verdict(data=parse_response(status_code, body, secrets=self.secrets))
            except HeyGenMalformedResponseError:
                # An unreadable answer to a create call still created the video: never re-sent.
                if not self.idempotent or self.attempt >= self.policy.attempts:
                    raise
                return self._retry_in(self.policy.backoff(self.attempt))
        retry_after = parse_retry_after(headers.get("Retry-After"))
        retryable = status_code == RATE_LIMITED or (self.idempotent and status_code in RETRYABLE_GET_STATUSES)
        if not retryable or self.attempt >= self.policy.attempts:
            parse_response(status_code, body, secrets=self.secrets, retry_after=retry_after)
        delay = self.policy.backoff(self.attempt)
        if retry_after is not None:
            delay = min(max(delay, retry_after), self.policy.max_retry_after)
        return self._retry_in(delay)

    def _retry_in(self, delay: float) -> Verdict:
        self.attempt += 1
        return Verdict(retry_in=delay)

    def delay_after_transport_error(self, failure: TransportFailure, description: str) -> float:
        """
        Judge a request that got no HTTP answer.

        :returns: seconds to wait before retrying.
        :raises HeyGenTransportError: when the call must not, or may no longer, be retried.
        """
        may_have_reached = failure is TransportFailure.NO_RESPONSE
        if (may_have_reached and not self.idempotent) or self.attempt >= self.policy.attempts:
            suffix = (
                "; not retried, because the request may have reached HeyGen and a second create would be paid for twice"
                if may_have_reached and not self.idempotent
                else f" after {self.attempt} attempt(s)"
            )
            raise HeyGenTransportError(
                f"{self.method} request to HeyGen failed: {description}{suffix}",
                request_may_have_reached_server=may_have_reached,
            )
        self.attempt += 1
        return self.policy.backoff(self.attempt - 1)


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """
    Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP date.

    :returns: ``None`` when absent or unreadable; never negative.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - now())
