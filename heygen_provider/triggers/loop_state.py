"""
:class:`TriggererLoopState`: everything the HeyGen triggers of one event loop share, in one object.

A triggerer runs thousands of waits in one loop, and they share: one HTTP session per connection, one
status poller per connection, the heap freezer (``[heygen] freeze_triggerer_heap``), the thread that
writes their log lines and the budget of their progress lines. All of it lives in the loop's
:class:`TriggererLoopState`, made on first use. Each wait holds it (``async with``, which
:func:`~heygen_provider.triggers.status_poller.status_subscription` does for a trigger), and the last
wait to leave closes it: so a loop that ends (``dag.test()`` and a task that waits on its worker run
each trigger in a loop of its own) leaves no connection, task or thread behind.

The transport finds the loop's sessions through :func:`heygen_provider.hooks.cache.loop_state`, the one
registry of per-loop state, without importing this layer.
"""

from __future__ import annotations

from typing import Protocol

from heygen_provider.hooks.cache import LoopSessions, loop_state
from heygen_provider.progress import PROGRESS_LINES_PER_SECOND, LineBudget
from heygen_provider.triggers import heap
from heygen_provider.triggers.log_lines import LogWriter


class Poller(Protocol):
    """What the loop's state needs of a connection's status poller: to stop it."""

    def close(self) -> None: ...


class TriggererLoopState(LoopSessions):
    """
    The HeyGen triggers' shared state on one event loop; get it with :meth:`of_running_loop`.

    ``[heygen] freeze_triggerer_heap`` is read once, when the state is made.
    """

    def __init__(self) -> None:
        super().__init__()
        #: One status poller per connection id, made by the first wait on it.
        self.pollers: dict[str, Poller] = {}
        # Through the module, so that a test may set the interval.
        self.freezer = heap.HeapFreezer(heap.FREEZE_CHECK_INTERVAL) if heap.freeze_enabled() else None
        self.log_writer = LogWriter()
        #: Progress lines (not status changes) a second for all the loop's waits (see :mod:`~heygen_provider.progress`).
        self.progress_budget = LineBudget(PROGRESS_LINES_PER_SECOND)

    @classmethod
    def of_running_loop(cls) -> TriggererLoopState:
        """The running loop's state, made on first use. Call from inside the loop."""
        return loop_state(cls)

    async def close(self) -> None:
        """Stop the pollers, let the log thread end and close the sessions; the next wait starts afresh."""
        pollers, self.pollers = self.pollers, {}
        for poller in pollers.values():
            poller.close()
        self.log_writer.close()
        await super().close()
