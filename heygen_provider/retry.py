"""
The retry policy, shared by the sync hook (requests), the async path (aiohttp) and the download step.

It only decides. Each transport sends, turns what happened into one of :mod:`heygen_provider.exceptions`
(HTTP answers through the one error parser), and asks :meth:`RetryState.delay_after` whether to try
again. The rules follow what HeyGen documents (``docs/reliability``):

* 429 is always retried, POST included: HeyGen refused the request without doing the work.
  ``Retry-After`` is honoured, in seconds or as an HTTP date, and capped.
* 5xx, unreadable 2xx bodies, connection resets and read timeouts are retried only for requests that
  are safe to repeat: GETs, and creates that carry an idempotency key. A create without one that may
  have reached HeyGen is never sent again: that could pay for a second render.
* A connection that could not be established at all never carried the request, so it is retried for
  every method.
* A 409 ``request_in_progress`` (a keyed create still being processed) is waited out, for keyed creates.
  Any other 409 (a key reused with another body) and a 401 or 403 are never sent again within the call;
  whether an Airflow task retry may send it is the exception's class's say (``is_retryable``).
* Back-off is exponential from :attr:`RetryPolicy.initial_delay` with full jitter.
"""

from __future__ import annotations

import email.utils
import enum
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from heygen_provider.exceptions import (
    HeyGenError,
    HeyGenMalformedResponseError,
    HeyGenRateLimitError,
    HeyGenRequestInProgressError,
    HeyGenServerError,
    HeyGenTransportError,
)

RETRYABLE_SERVER_STATUSES = frozenset({500, 502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


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

    def start(self, method: str, *, idempotent: bool | None = None) -> RetryState:
        """
        Begin the retry bookkeeping of one call.

        :param method: the HTTP method.
        :param idempotent: whether sending the request twice does the work once; by default ``True`` for
            GET, HEAD, OPTIONS and DELETE. A create that carries an idempotency key passes ``True``.
        """
        method = method.upper()
        return RetryState(self, method, method in SAFE_METHODS if idempotent is None else idempotent)

    def backoff(self, retry_number: int) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry), with full jitter."""
        ceiling = min(self.max_delay, self.initial_delay * 2 ** (retry_number - 1))
        return float(ceiling * (0.5 + 0.5 * self.random_fraction()))

    def wait_after(self, error: BaseException, retry_number: int) -> float:
        """
        Seconds to wait before retry ``retry_number`` after ``error``: the back-off, or the server's
        ``Retry-After`` when longer, never above :attr:`max_retry_after`.
        """
        delay = self.backoff(retry_number)
        retry_after = self.capped_retry_after(error)
        if retry_after is not None:
            delay = min(max(delay, retry_after), self.max_retry_after)
        return delay

    def capped_retry_after(self, error: BaseException) -> float | None:
        """The wait a rate-limit answer asked for, capped at :attr:`max_retry_after`; ``None`` if none."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is None:
            return None
        return float(min(max(0.0, retry_after), self.max_retry_after))


@dataclass
class RetryState:
    """The retry bookkeeping of one call; made by :meth:`RetryPolicy.start`."""

    policy: RetryPolicy
    method: str
    idempotent: bool
    attempt: int = 1

    def may_resend(self, error: HeyGenError) -> bool:
        """Whether the request that ended in ``error`` may be sent again, attempts aside."""
        if isinstance(error, HeyGenRateLimitError):
            return True
        if isinstance(error, HeyGenTransportError):
            return self.idempotent or not error.request_may_have_reached_server
        if isinstance(error, HeyGenRequestInProgressError):
            # The same keyed create is still in flight at HeyGen: asking again later replays its answer.
            return self.idempotent
        if isinstance(error, HeyGenMalformedResponseError):
            return self.idempotent
        if isinstance(error, HeyGenServerError):
            return self.idempotent and error.http_status in RETRYABLE_SERVER_STATUSES
        return False

    def delay_after(self, error: HeyGenError) -> float | None:
        """
        Seconds to wait before the next attempt after ``error``, or ``None``: give up and raise it.

        A rate limit's ``Retry-After`` is honoured (never shorter than the back-off), capped by the policy.
        """
        if self.attempt >= self.policy.attempts or not self.may_resend(error):
            return None
        delay = self.policy.wait_after(error, self.attempt)
        self.attempt += 1
        return delay


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
