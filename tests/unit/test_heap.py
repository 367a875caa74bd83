"""The opt-in heap freezer: when it freezes, when it thaws, and that the last trigger to leave thaws it."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from heygen_provider.triggers import heap
from heygen_provider.triggers.heap import HeapFreezer
from heygen_provider.triggers.loop_state import TriggererLoopState

SETTING = "AIRFLOW__HEYGEN__FREEZE_TRIGGERER_HEAP"
TICK = 0.01


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


class Cycle:
    """An object in a reference cycle: only the collector frees it."""

    def __init__(self) -> None:
        self.itself = self


async def ticks(count: int = 5) -> None:
    await asyncio.sleep(TICK * count)


@pytest.mark.parametrize("check_interval", [0, -1.0])
def test_a_check_interval_must_be_positive(check_interval: float) -> None:
    with pytest.raises(ValueError, match="check_interval must be positive"):
        HeapFreezer(check_interval)


def test_it_is_off_unless_the_deployment_turns_it_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SETTING, raising=False)

    async def run() -> HeapFreezer | None:
        return TriggererLoopState.of_running_loop().freezer

    assert asyncio.run(run()) is None
    monkeypatch.setenv(SETTING, "True")
    assert isinstance(asyncio.run(run()), HeapFreezer)


def test_one_freezer_per_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SETTING, "True")

    async def run() -> bool:
        return TriggererLoopState.of_running_loop().freezer is TriggererLoopState.of_running_loop().freezer

    assert asyncio.run(run())


def test_waiting_triggers_freeze_the_heap_and_the_last_to_leave_thaws_it() -> None:
    async def run() -> None:
        freezer = HeapFreezer(TICK)
        for _ in range(4):
            freezer.join()
        assert gc.get_freeze_count() == 0  # not before the first look
        await ticks()
        assert gc.get_freeze_count() > 0
        assert freezer.frozen_with == 4
        freezer.leave()  # 3 of 4 still wait: stays frozen
        assert gc.get_freeze_count() > 0
        freezer.leave()
        assert gc.get_freeze_count() == 0  # half have left
        freezer.leave()
        freezer.leave()
        await ticks()
        assert freezer._task is None

    asyncio.run(run())


def test_the_heap_is_frozen_again_only_when_more_triggers_wait() -> None:
    async def run() -> None:
        freezer = HeapFreezer(TICK)
        freezer.join()
        await ticks()
        frozen = gc.get_freeze_count()
        gc.unfreeze()  # as if nothing were frozen: a look with no new trigger must not freeze
        await ticks()
        assert gc.get_freeze_count() == 0
        freezer.join()
        await ticks()
        # The whole heap again, give or take what was freed between the two freezes (exact counts flake).
        assert gc.get_freeze_count() > frozen // 2
        assert freezer.frozen_with == 2
        freezer.leave()
        freezer.leave()

    asyncio.run(run())


def test_garbage_left_while_frozen_is_freed_after_the_thaw_and_a_full_pass() -> None:
    async def run() -> None:
        freezer = HeapFreezer(TICK)
        for _ in range(2):
            freezer.join()
        left_behind = Cycle()
        await ticks()
        finished = weakref.ref(left_behind)
        del left_behind
        gc.collect()
        assert finished() is not None  # frozen: no pass reaches it
        freezer.leave()  # half have left: thawed
        gc.collect()
        assert finished() is None
        freezer.leave()

    asyncio.run(run())


def test_after_a_thaw_no_freeze_comes_before_a_full_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    async def run() -> None:
        full_passes = [0]
        monkeypatch.setattr(heap, "_full_passes", lambda: full_passes[0])
        freezer = HeapFreezer(TICK)
        freezer.join()
        freezer.join()
        await ticks()
        freezer.leave()  # thawed
        freezer.join()
        await ticks()
        assert gc.get_freeze_count() == 0  # the garbage of the thaw is not frozen again
        full_passes[0] += 1
        await ticks()
        assert gc.get_freeze_count() > 0
        freezer.leave()
        freezer.leave()

    asyncio.run(run())


def test_young_garbage_is_collected_before_a_freeze() -> None:
    async def run() -> None:
        freezer = HeapFreezer(TICK)
        gc.collect()
        young = Cycle()
        gone = weakref.ref(young)
        del young
        freezer.join()
        await ticks()
        assert gc.get_freeze_count() > 0
        assert gone() is None
        freezer.leave()

    asyncio.run(run())


def test_a_bad_setting_value_fails_the_wait_and_leaves_no_poller_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    from heygen_provider.hooks import cache
    from heygen_provider.triggers import status_poller

    monkeypatch.setenv(SETTING, "maybe")

    async def run() -> object:
        with pytest.raises(Exception, match="freeze_triggerer_heap"):
            async with status_poller.status_subscription("heygen_default", "v1", 1.0):
                pass
        return cache._loop_states.get(asyncio.get_running_loop())

    assert asyncio.run(run()) is None
