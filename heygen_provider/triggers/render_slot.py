"""
:class:`HeyGenRenderSlotTrigger`: a render whose create HeyGen refused (HTTP 429 ``rate_limit_exceeded``:
every render slot of the account is busy) waits here for a slot, in the triggerer, without a worker.

The wait ends at the refusal's ``Retry-After`` (with jitter, :meth:`~heygen_provider.retry.RetryPolicy.slot_wait`)
or earlier, when the triggerer sees one of the same connection's renders end: the connection's status poller
tells the loop's :class:`~heygen_provider.triggers.loop_state.SlotQueue`, which wakes the waits in the order
their renders were first refused, one per ended render. The task then resumes on a worker and sends the same
create again, with the same ``Idempotency-Key``; a new refusal means one more wait, from the same place in
the queue. The trigger never submits anything, and serializes only the connection id, its place in the
queue and absolute wall-clock times, so a rebuilt trigger keeps its deadline.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from heygen_provider.models.slot_wait import SlotEvent, SlotWait
from heygen_provider.triggers.heygen import execution_deadline, first_event_payload
from heygen_provider.triggers.loop_state import TriggererLoopState
from heygen_provider.vocabulary import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from datetime import timedelta

    from airflow.sdk import Context

__all__ = ["SLOT_TRIGGER_CLASSPATH", "HeyGenRenderSlotTrigger", "slot_trigger", "wait_for_slot"]

#: Where Airflow finds the trigger class again when it rebuilds a serialized trigger. Written out, not
#: taken from the class: stored triggers name this path, so moving the class must leave it importable.
SLOT_TRIGGER_CLASSPATH = "heygen_provider.triggers.render_slot.HeyGenRenderSlotTrigger"


class HeyGenRenderSlotTrigger(BaseTrigger):
    """
    Wait for a HeyGen render slot, then yield exactly one :class:`~heygen_provider.models.slot_wait.SlotEvent`:
    try again, or the wait timed out.

    :param heygen_conn_id: the Airflow connection id; the key itself is never serialized.
    :param retry_at: UNIX time at which to try again at the latest (the refusal's ``Retry-After``, with jitter).
    :param waiting_since: UNIX time of the render's first refusal: its place in the queue.
    :param refusals: creates of the render refused so far; the task log says it waits only at the first.
    :param end_time: UNIX time at which the wait times out (the first refusal plus the operator's ``timeout``).
    :param execution_deadline: UNIX time at which the task's ``execution_timeout`` runs out.
    """

    def __init__(
        self,
        heygen_conn_id: str = DEFAULT_CONN_ID,
        *,
        retry_at: float = 0.0,
        waiting_since: float = 0.0,
        refusals: int = 1,
        end_time: float | None = None,
        execution_deadline: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.heygen_conn_id = heygen_conn_id
        self.retry_at = retry_at
        self.waiting_since = waiting_since
        self.refusals = refusals
        self.end_time = end_time
        self.execution_deadline = execution_deadline

    @property
    def wait(self) -> SlotWait:
        """The render's wait so far, as the task hands it on."""
        return SlotWait(since=self.waiting_since, refusals=self.refusals, end_time=self.end_time)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        classpath = (
            SLOT_TRIGGER_CLASSPATH
            if type(self) is HeyGenRenderSlotTrigger
            else f"{type(self).__module__}.{type(self).__qualname__}"
        )
        return (
            classpath,
            {
                "heygen_conn_id": self.heygen_conn_id,
                "retry_at": self.retry_at,
                "waiting_since": self.waiting_since,
                "refusals": self.refusals,
                "end_time": self.end_time,
                "execution_deadline": self.execution_deadline,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        state = TriggererLoopState.of_running_loop()
        async with state:
            queue = state.slot_queue(self.heygen_conn_id)
            waiter, before = queue.join(self.waiting_since)
            try:
                deadline, which = self._next_deadline()
                wake_at = min(self.retry_at, deadline)
                if self.refusals <= 1:
                    await state.log_writer.write(
                        self.log.info,
                        "Waiting for a HeyGen render slot: every slot of the account is busy (HTTP 429 "
                        "rate_limit_exceeded). %d wait(s) before this one in this triggerer; trying again when "
                        "one of connection %s's renders ends, or in %.0f s at the latest",
                        before,
                        self.heygen_conn_id,
                        max(0.0, wake_at - time.time()),
                    )
                woken = await waiter.wait(wake_at - time.time())
            finally:
                queue.leave(waiter)
        if not woken and deadline <= self.retry_at:
            event = SlotEvent.timeout(
                f"no HeyGen render slot became free before the {which}: waited for a render slot for "
                f"{max(0.0, time.time() - self.waiting_since):.0f} s ({self.refusals} create(s) refused with "
                "HTTP 429 rate_limit_exceeded); nothing was submitted or paid",
                self.wait,
            )
        else:
            event = SlotEvent.try_again(
                "a render of the same connection ended" if woken else "the refusal's Retry-After has passed",
                self.wait,
            )
        yield TriggerEvent(event.to_payload())

    def _next_deadline(self) -> tuple[float, str]:
        candidates = [(self.end_time, "render timeout"), (self.execution_deadline, "execution_timeout")]
        present = [(moment, name) for moment, name in candidates if moment is not None]
        return min(present) if present else (float("inf"), "")


def slot_trigger(
    *,
    heygen_conn_id: str,
    wait: SlotWait,
    retry_in: float,
    execution_timeout: timedelta | None,
    context: Context,
) -> HeyGenRenderSlotTrigger:
    """
    The trigger that waits for a render slot after the refusal ``wait`` has just counted.

    :param retry_in: seconds from now to try again at the latest (:meth:`~heygen_provider.retry.RetryPolicy.slot_wait`).
    :param execution_timeout: the task's ``execution_timeout``, which Airflow 3 does not enforce while a
        task is deferred (apache/airflow#69678), so the trigger does.
    """
    now = time.time()
    return HeyGenRenderSlotTrigger(
        heygen_conn_id=heygen_conn_id,
        retry_at=now + retry_in,
        waiting_since=wait.since if wait.since is not None else now,
        refusals=wait.refusals,
        end_time=wait.end_time,
        execution_deadline=execution_deadline(execution_timeout, context),
    )


def wait_for_slot(trigger: HeyGenRenderSlotTrigger) -> SlotEvent:
    """
    Run ``trigger`` to its event on the calling (worker) thread: the blocking mode of a task, which the
    user chose to wait on its worker. Its loop has no status poller, so it waits the ``Retry-After``.
    """
    return SlotEvent.from_payload(first_event_payload(trigger))
