"""v3's ``Idempotency-Key``: a repeated mutation replays the first answer instead of doing the work again.

As HeyGen documents it: the key is 1 to 255 characters of ``[A-Za-z0-9_:.-]``; it is scoped to the
method and the path (so ``POST /v3/assets/A/complete`` and ``POST /v3/assets/B/complete`` never share
one); a repeat within 24 hours replays the first answer, status and body, even when the body differs;
a repeat while the first request is still in flight gets HTTP 409 ``request_in_progress``.

Only answers of requests that did the work are kept (2xx): a request refused by validation, by a
rate limit or by a fault in front of the application did nothing, so sending it again with the
same key does it, as Stripe-style idempotency behaves. A fault applied after processing
(``process=True``) keeps the real answer: retrying with the key is then how the client learns the
id of the video its timed-out request created.

A request is in flight from its arrival until its answer is due: an answer delayed by the ``slow``
fault or by ``create_delay_seconds`` is due after that delay (real time, since the delay is real).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from heygen_provider.testing.emulator.messages import HttpResponse

HEADER = "Idempotency-Key"
KEY = re.compile(r"^[A-Za-z0-9_:.\-]{1,255}$")
#: How long an answer is replayed (HeyGen: 24 hours), on the emulator's clock.
RETENTION_SECONDS = 24 * 3600.0
#: Answers kept at most; the oldest are forgotten first, so a long benchmark cannot exhaust memory.
MAX_RECORDS = 100_000
REPLAY_HEADER = ("Idempotent-Replayed", "true")

Scope = tuple[str, str, str]


@dataclass(slots=True)
class StoredAnswer:
    """The first answer to a key.

    :param status: its HTTP status.
    :param body: its body.
    :param content_type: its Content-Type.
    :param headers: its further headers.
    :param stored_at: when it was given (the emulator's clock).
    :param video_id: the video it created or touched, for the request log of replays.
    :param busy_until: ``time.monotonic()`` value before which the first request is still in flight.
    """

    status: int
    body: bytes
    content_type: str
    headers: list[tuple[str, str]]
    stored_at: float
    video_id: str | None = None
    busy_until: float = 0.0

    def hold(self, seconds: float) -> None:
        """Count the first request as in flight for ``seconds`` more: its answer is delayed that long.

        :param seconds: the delay before its answer is sent.
        """
        self.busy_until = time.monotonic() + seconds

    @property
    def in_flight(self) -> bool:
        """Whether the first request's answer has not been sent yet."""
        return time.monotonic() < self.busy_until

    def replay(self) -> HttpResponse:
        """The same answer again, marked with ``Idempotent-Replayed: true``."""
        return HttpResponse(self.status, self.body, self.content_type, [*self.headers, REPLAY_HEADER])


def valid_key(key: str) -> bool:
    """Whether ``key`` is 1 to 255 characters of ``[A-Za-z0-9_:.-]``.

    :param key: the header's value.
    """
    return KEY.match(key) is not None


class IdempotencyStore:
    """The answers to idempotent requests of the last 24 hours, by method, path and key."""

    def __init__(self) -> None:
        self.answers: dict[Scope, StoredAnswer] = {}

    def find(self, scope: Scope, now: float) -> StoredAnswer | None:
        """The answer kept for ``scope``, if it is less than 24 hours old.

        :param scope: method, path and key.
        :param now: the emulator's time.
        """
        found = self.answers.get(scope)
        if found is not None and now - found.stored_at > RETENTION_SECONDS:
            del self.answers[scope]
            return None
        return found

    def keep(self, scope: Scope, answer: HttpResponse, video_id: str | None, now: float) -> StoredAnswer:
        """Keep the answer of a request that did its work.

        :param scope: method, path and key.
        :param answer: the answer the application gave (before any fault changed it).
        :param video_id: the video it created or touched.
        :param now: the emulator's time.
        :returns: what was kept; :meth:`StoredAnswer.hold` it while the answer is delayed.
        """
        if len(self.answers) >= MAX_RECORDS:
            del self.answers[next(iter(self.answers))]
        kept = StoredAnswer(answer.status, answer.body, answer.content_type, list(answer.headers), now, video_id)
        self.answers[scope] = kept
        return kept

    def clear(self) -> None:
        """Forget every answer."""
        self.answers.clear()
