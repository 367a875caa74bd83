"""
A render waiting for a HeyGen render slot: what it carries from one deferral to the next
(:class:`SlotWait`), and the one event its wait ends with (:class:`SlotEvent`).

HeyGen's v3 API refuses a create beyond the account's concurrent render slots with HTTP 429
``rate_limit_exceeded`` and a ``Retry-After``; nothing is created. The render operators then wait for a
slot (in the triggerer: :class:`~heygen_provider.triggers.render_slot.HeyGenRenderSlotTrigger`) and send the
same create again, with the same ``Idempotency-Key``. On the wire both are plain JSON objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from heygen_provider.exceptions import HeyGenRenderSlotTimeoutError

#: The wait ended: a render of the same connection ended, or the refusal's ``Retry-After`` passed.
TRY_AGAIN = "try_again"
#: The wait reached the render's ``timeout`` (or the task's ``execution_timeout``) first.
SLOT_TIMEOUT = "slot_timeout"


@dataclass(frozen=True)
class SlotWait:
    """
    One render's wait for a slot so far; ``SlotWait()`` before any refusal.

    :param since: UNIX time of the first refusal: the render's place in the triggerer's queue of waits.
    :param refusals: creates of this render refused so far.
    :param end_time: UNIX time at which the wait times out (the first refusal plus the operator's ``timeout``).
    """

    since: float | None = None
    refusals: int = 0
    end_time: float | None = None

    def after_refusal(self, now: float, timeout: float) -> SlotWait:
        """The wait after one more refusal at ``now``; a first refusal starts the ``timeout`` seconds."""
        since = self.since if self.since is not None else now
        end_time = self.end_time if self.end_time is not None else since + timeout
        return SlotWait(since=since, refusals=self.refusals + 1, end_time=end_time)

    def seconds(self, now: float) -> float:
        """Seconds waited for a slot by ``now``: 0 for a render never refused."""
        return 0.0 if self.since is None else round(max(0.0, now - self.since), 3)

    def to_payload(self) -> dict[str, Any]:
        return {"since": self.since, "refusals": self.refusals, "end_time": self.end_time}

    @classmethod
    def from_payload(cls, payload: Any) -> SlotWait:
        """Read a payload; anything unreadable reads as "no wait yet"."""
        if not isinstance(payload, dict):
            return cls()
        since, refusals, end_time = payload.get("since"), payload.get("refusals"), payload.get("end_time")
        return cls(
            since=float(since) if isinstance(since, (int, float)) else None,
            refusals=refusals if isinstance(refusals, int) else 0,
            end_time=float(end_time) if isinstance(end_time, (int, float)) else None,
        )


@dataclass(frozen=True)
class SlotEvent:
    """
    The event a wait for a render slot ends with.

    :param outcome: :data:`TRY_AGAIN` or :data:`SLOT_TIMEOUT`.
    :param message: why the wait ended.
    :param wait: the render's wait so far, handed back to the task: the event, not the deferral's
        ``kwargs``, carries it, because ``dag.test()`` resumes a task with the event alone.
    """

    outcome: str
    message: str
    wait: SlotWait = SlotWait()

    @classmethod
    def try_again(cls, message: str, wait: SlotWait) -> SlotEvent:
        return cls(TRY_AGAIN, message, wait)

    @classmethod
    def timeout(cls, message: str, wait: SlotWait) -> SlotEvent:
        return cls(SLOT_TIMEOUT, message, wait)

    def to_payload(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "message": self.message, "wait": self.wait.to_payload()}

    @classmethod
    def from_payload(cls, payload: Any) -> SlotEvent:
        payload = payload if isinstance(payload, dict) else {}
        return cls(
            str(payload.get("outcome") or TRY_AGAIN),
            str(payload.get("message") or "no message"),
            SlotWait.from_payload(payload.get("wait")),
        )

    def raise_if_timed_out(self, now: float) -> None:
        """
        :raises HeyGenRenderSlotTimeoutError: when the wait timed out, saying it waited for a render slot.
        """
        if self.outcome == SLOT_TIMEOUT:
            raise HeyGenRenderSlotTimeoutError(self.message, waited_seconds=self.wait.seconds(now))
