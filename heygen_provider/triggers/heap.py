"""
Opt-in: keep a large triggerer's long-lived heap out of the garbage collector's full passes.

A triggerer waiting on thousands of renders holds a large heap, most of it Airflow's bookkeeping for
each trigger. Every so often the collector walks all of it in one full pass and the event loop stalls
for as long, whatever the triggers do (how often and how long: ``docs/benchmarks.rst``). ``gc.freeze()`` moves
every object tracked at that moment into a permanent generation that no pass walks; new objects are
still collected as usual, and an object freed by its reference count leaves the permanent generation.

The loop's freezer is kept in its :class:`~heygen_provider.triggers.loop_state.TriggererLoopState`.
This is a choice for the whole process, so it is off unless the deployment turns it on with
``[heygen] freeze_triggerer_heap = True`` (``AIRFLOW__HEYGEN__FREEZE_TRIGGERER_HEAP=True``). When on,
every ``check_interval`` seconds in which more HeyGen triggers wait than at the last freeze, the
young generations are collected and the heap is frozen again; both calls take the same short time
whatever the heap's size. Reference cycles that become garbage while frozen are
not collected until a thaw: once as many triggers have left since the last freeze as half the number
waiting at that freeze, the heap is thawed, and it is frozen again only after the collector's next full
pass, so what the finished renders left behind is freed once. Departures are counted, not the number
still waiting: in a campaign whose finished waits are replaced by new ones that number never falls, and
a rule on it would keep every finished wait's garbage for as long as the triggerer is busy.
"""

from __future__ import annotations

import asyncio
import gc
import warnings

from airflow.configuration import conf

from heygen_provider.hooks.cache import LoopSessions, loop_state

#: How often a freezer looks at the number of waiting triggers.
FREEZE_CHECK_INTERVAL = 10.0


def freeze_enabled() -> bool:
    """``[heygen] freeze_triggerer_heap``: Airflow's configuration, already in memory, so no I/O."""
    return conf.getboolean("heygen", "freeze_triggerer_heap", fallback=False)


class HeapFreezer:
    """
    Freezes the garbage collector's heap while HeyGen triggers wait on one event loop.

    :param check_interval: seconds between looks at the number of waiting triggers; must be positive.
    """

    def __init__(self, check_interval: float = FREEZE_CHECK_INTERVAL) -> None:
        if check_interval <= 0:
            raise ValueError(f"check_interval must be positive, got {check_interval!r}")
        self.check_interval = check_interval
        self.waiting = 0
        #: Triggers waiting at the last freeze; 0 while the heap is not frozen by this freezer.
        self.frozen_with = 0
        #: Triggers that have left since the last freeze, whether or not others took their place.
        self.left_since_freeze = 0
        #: The collector's count of full passes at the last thaw; no freeze until it grows.
        self._full_passes_at_thaw: int | None = None
        self._task: asyncio.Task[None] | None = None

    def join(self) -> None:
        self.waiting += 1
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    def leave(self) -> None:
        self.waiting -= 1
        if self.frozen_with:
            self.left_since_freeze += 1
            # Departures, not the number still waiting: a finished wait replaced by a new one still left
            # its garbage frozen. When the last trigger leaves, at least frozen_with have left: thawed.
            if self.left_since_freeze * 2 >= self.frozen_with:
                self._thaw()
        if self.waiting == 0 and self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.check_interval)
            if self.waiting > self.frozen_with and self._collected_since_thaw():
                # Young garbage goes first, so that only live objects and old garbage are frozen.
                gc.collect(1)
                gc.freeze()
                self.frozen_with = self.waiting
                self.left_since_freeze = 0

    def _thaw(self) -> None:
        gc.unfreeze()
        self.frozen_with = 0
        self.left_since_freeze = 0
        self._full_passes_at_thaw = _full_passes()

    def _collected_since_thaw(self) -> bool:
        return self._full_passes_at_thaw is None or _full_passes() > self._full_passes_at_thaw


def _full_passes() -> int:
    return int(gc.get_stats()[-1]["collections"])


def heap_freezer() -> HeapFreezer | None:
    """
    Deprecated, kept until the next major release: read
    ``TriggererLoopState.of_running_loop().freezer``
    (:class:`~heygen_provider.triggers.loop_state.TriggererLoopState`). The running loop's freezer when
    ``[heygen] freeze_triggerer_heap`` is on and a HeyGen trigger has run on the loop, else None.
    """
    warnings.warn(
        "heygen_provider.triggers.heap.heap_freezer is deprecated: read "
        "heygen_provider.triggers.loop_state.TriggererLoopState.of_running_loop().freezer",
        DeprecationWarning,
        stacklevel=2,
    )
    # Read through the transport's registry: the loop state's module imports this one.
    freezer: HeapFreezer | None = getattr(loop_state(LoopSessions), "freezer", None)
    return freezer
