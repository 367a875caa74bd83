"""
Reliability item 27.9: ``[heygen] freeze_triggerer_heap`` frees what finished waits left behind also under
steady churn, where every finished wait is replaced by a new one and the number of waits never falls.

Each wait owns an object in a reference cycle, made before the freeze (so frozen with the heap, as a
trigger's bookkeeping is): only a full collection after a thaw frees it once the wait has ended.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from heygen_provider.triggers.heap import HeapFreezer

TICK = 0.01
#: Waits held at every moment of the campaign.
WAITS = 10
#: Times the campaign's waits are all replaced, one by one.
ROUNDS = 3


class Cycle:
    """What a wait leaves behind: an object only the collector frees."""

    def __init__(self) -> None:
        self.itself = self


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


async def ticks(count: int = 5) -> None:
    await asyncio.sleep(TICK * count)


def test_finished_waits_replaced_by_new_ones_still_have_their_garbage_freed() -> None:
    async def run() -> None:
        freezer = HeapFreezer(TICK)
        waits = [Cycle() for _ in range(WAITS)]
        for _ in range(WAITS):
            freezer.join()
        for round_number in range(ROUNDS):
            await ticks()
            assert gc.get_freeze_count() > 0, f"round {round_number}: the heap was not frozen again"
            assert freezer.frozen_with == WAITS
            finished: list[weakref.ref[Cycle]] = []
            # One wait ends and a new one takes its place, until about half the frozen waits have left.
            for replaced in range(WAITS // 2):
                if replaced:
                    gc.collect()
                    assert all(ref() is not None for ref in finished)  # still frozen: kept, as documented
                finished.append(weakref.ref(waits.pop(0)))
                freezer.leave()
                waits.append(Cycle())
                freezer.join()
                assert freezer.waiting == WAITS
            # Half the frozen waits have left, though as many wait as before: thawed, and the next
            # full collection frees what they left behind.
            gc.collect()
            assert [ref() for ref in finished] == [None] * len(finished), f"round {round_number}: garbage kept"
        for _ in range(WAITS):
            freezer.leave()
        await ticks()
        assert gc.get_freeze_count() == 0

    asyncio.run(run())
