"""
:class:`TriggererLoopState`: everything the HeyGen triggers of one event loop share, in one object.

A triggerer runs thousands of waits in one loop, and they share: one HTTP session per connection, one
status poller per connection, one queue of waits for a render slot per connection (:class:`SlotQueue`,
which the poller serves as it sees renders end), the heap freezer (``[heygen] freeze_triggerer_heap``), the thread that
writes their log lines and the budget of their progress lines. All of it lives in the loop's
:class:`TriggererLoopState`, made on first use. Each wait holds it (``async with``, which
:func:`~heygen_provider.triggers.status_poller.status_subscription` does for a trigger), and the last
wait to leave closes it: so a loop that ends (``dag.test()`` and a task that waits on its worker run
each trigger in a loop of its own) leaves no connection, task or thread behind.

The transport finds the loop's sessions through :func:`heygen_provider.hooks.cache.loop_state`, the one
registry of per-loop state, without importing this layer.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
from typing import Protocol

from heygen_provider.hooks.cache import LoopSessions, loop_state
from heygen_provider.progress import PROGRESS_LINES_PER_SECOND, LineBudget
from heygen_provider.triggers import heap
from heygen_provider.triggers.log_lines import LogWriter


class Poller(Protocol):
    """What the loop's state needs of a connection's status poller: to stop it."""

    def close(self) -> None: ...


class SlotWaiter:
    """
    One wait for a render slot in a :class:`SlotQueue`.

    :param order: ``(first refusal time, arrival number)``: where the wait stands in its queue.
    """

    __slots__ = ("future", "order")

    def __init__(self, order: tuple[float, int]) -> None:
        self.order = order
        self.future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def wait(self, seconds: float) -> bool:
        """
        Wait up to ``seconds`` to be woken by a render that ended.

        :returns: ``True`` when woken, ``False`` when the time ran out first.
        """
        try:
            await asyncio.wait_for(self.future, max(0.0, seconds))
        except asyncio.TimeoutError:
            return False
        return True


class SlotQueue:
    """
    One connection's waits for a render slot on this loop, in the order their renders were first refused.

    The connection's status poller calls :meth:`render_ended` when a render it polls ends: that frees a
    slot at HeyGen, so the longest wait not yet woken is woken, one per ended render. Waits never
    stampede, and a freed slot is asked for within one poll. Nothing depends on it for correctness: a
    woken render refused again waits again, from its old place in the queue.
    """

    def __init__(self) -> None:
        self.waiters: list[SlotWaiter] = []
        self._arrivals = itertools.count()

    def join(self, since: float) -> tuple[SlotWaiter, int]:
        """
        Queue a wait whose render was first refused at ``since`` (UNIX time).

        :returns: the wait, and how many waits stand before it.
        """
        waiter = SlotWaiter((since, next(self._arrivals)))
        place = bisect.bisect(self.waiters, waiter.order, key=lambda queued: queued.order)
        self.waiters.insert(place, waiter)
        return waiter, place

    def leave(self, waiter: SlotWaiter) -> None:
        if waiter in self.waiters:
            self.waiters.remove(waiter)

    def render_ended(self) -> None:
        """A render of this connection ended and freed a slot: wake the longest wait not yet woken."""
        for waiter in self.waiters:
            if not waiter.future.done():
                waiter.future.set_result(None)
                return


class TriggererLoopState(LoopSessions):
    """
    The HeyGen triggers' shared state on one event loop; get it with :meth:`of_running_loop`.

    ``[heygen] freeze_triggerer_heap`` is read once, when the state is made.
    """

    def __init__(self) -> None:
        super().__init__()
        #: One status poller per connection id, made by the first wait on it.
        self.pollers: dict[str, Poller] = {}
        #: One queue of waits for a render slot per connection id.
        self.slot_queues: dict[str, SlotQueue] = {}
        # Through the module, so that a test may set the interval.
        self.freezer = heap.HeapFreezer(heap.FREEZE_CHECK_INTERVAL) if heap.freeze_enabled() else None
        self.log_writer = LogWriter()
        #: Progress lines (not status changes) a second for all the loop's waits (see :mod:`~heygen_provider.progress`).
        self.progress_budget = LineBudget(PROGRESS_LINES_PER_SECOND)

    @classmethod
    def of_running_loop(cls) -> TriggererLoopState:
        """The running loop's state, made on first use. Call from inside the loop."""
        return loop_state(cls)

    def slot_queue(self, conn_id: str) -> SlotQueue:
        """The queue of waits for a render slot of ``conn_id``, made on first use."""
        queue = self.slot_queues.get(conn_id)
        if queue is None:
            queue = self.slot_queues[conn_id] = SlotQueue()
        return queue

    async def close(self) -> None:
        """Stop the pollers, let the log thread end and close the sessions; the next wait starts afresh."""
        pollers, self.pollers = self.pollers, {}
        self.slot_queues = {}
        for poller in pollers.values():
            poller.close()
        self.log_writer.close()
        await super().close()
