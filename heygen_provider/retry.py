"""
The retry policy, shared by the sync hook (requests), the async path (aiohttp) and the download step.

It only decides. Each transport sends, turns what happened into one of :mod:`heygen_provider.exceptions`
(HTTP answers through the one error parser), and asks :meth:`RetryState.delay_after` whether to try
again. The rules follow what HeyGen documents (``docs/reliability``):

* 429 is always retried, POST included: HeyGen refused the request without doing the work.
  ``Retry-After`` is honoured, in seconds or as an HTTP date, and capped. One exception: a create
  (video or template) refused with ``rate_limit_exceeded``, v3's answer when every render slot of the
  account is busy, is not re-sent within the call: the caller waits for a slot
  (:meth:`RetryPolicy.slot_wait`), in the triggerer when it can, instead of sleeping on a worker.
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
#: v3's error code of a 429; on a create it means every render slot of the account is busy.
RATE_LIMIT_EXCEEDED = "rate_limit_exceeded"


def is_slot_refusal(error: BaseException) -> bool:
    """Whether ``error`` is HeyGen's 429 ``rate_limit_exceeded``: on a create, no render slot is free."""
    code = getattr(error, "code", None)
    return (
        isinstance(error, HeyGenRateLimitError)
        and isinstance(code, str)
        and code.strip().lower() == RATE_LIMIT_EXCEEDED
    )


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
    :param max_retry_after: cap on a server's ``Retry-After``, in seconds (also on a wait for a render slot).
    :param slot_wait_without_retry_after: seconds to wait for a render slot after a refused create that
        names no ``Retry-After``; doubled with each refusal of the same render, up to ``max_retry_after``.
    :param slot_wait_jitter: up to this fraction of a wait for a render slot is added at random, so renders
        refused together do not all come back together.
    """

    attempts: int = 5
    initial_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    slot_wait_without_retry_after: float = 10.0
    slot_wait_jitter: float = 0.2
    random_fraction: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def start(self, method: str, *, idempotent: bool | None = None, create: bool = False) -> RetryState:
        """
        Begin the retry bookkeeping of one call.

        :param method: the HTTP method.
        :param idempotent: whether sending the request twice does the work once; by default ``True`` for
            GET, HEAD, OPTIONS and DELETE. A create that carries an idempotency key passes ``True``.
        :param create: the call asks HeyGen for a render (video or template), which takes a render slot.
        """
        method = method.upper()
        return RetryState(self, method, method in SAFE_METHODS if idempotent is None else idempotent, create=create)

    def slot_wait(self, error: BaseException, refusals: int) -> float:
        """
        Seconds to wait for a render slot before sending a refused create again: the refusal's
        ``Retry-After`` (capped), or without one :attr:`slot_wait_without_retry_after` doubled per
        refusal; plus up to :attr:`slot_wait_jitter` of it at random.

        :param error: the create's refusal (:func:`is_slot_refusal`, or another 429).
        :param refusals: how many times this render's create was refused so far, this one included.
        """
        base = self.capped_retry_after(error)
        if base is None:
            base = min(self.max_retry_after, self.slot_wait_without_retry_after * 2 ** max(0, refusals - 1))
        return float(base * (1.0 + self.slot_wait_jitter * self.random_fraction()))

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
    create: bool = False

    def may_resend(self, error: HeyGenError) -> bool:
        """Whether the request that ended in ``error`` may be sent again, attempts aside."""
        if isinstance(error, HeyGenRateLimitError):
            # A render slot frees when a render ends, minutes away: the caller waits for it without
            # holding a worker (the operators defer), rather than this call sleeping on one.
            return not (self.create and is_slot_refusal(error))
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
