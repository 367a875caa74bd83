"""
A probe for ``real_triggerer.py``: a trigger that runs in the real triggerer's runner process beside the
triggers under test and records, once a second, what the runner cannot report about itself.

Each line it appends to ``path`` is JSON: wall-clock time, the runner's CPU seconds (``getrusage``),
RSS, the number of asyncio tasks on the loop (one per running trigger, so start-up is visible), how
late each 50 ms sleep woke up (loop lag) and how long each garbage collection took, by generation.
The write (a few hundred bytes a second) goes through a thread, so the probe never blocks the loop.

With ``freeze_at_tasks`` the probe also runs an experiment: once the loop holds that many tasks (every
trigger has started) it collects and then freezes the garbage collector (``gc.freeze()``), what
Airflow's runner could do after loading its triggers, so that full collections no longer walk them.

With ``patch_cleanup`` it runs another: it replaces the runner's ``cleanup_finished_triggers`` (which
Airflow calls once a second) with one that looks only at finished triggers. Airflow's own copies every
``(id, details)`` pair into a list and awaits ``asyncio.sleep(0)`` after each one, so at 10,000
triggers it yields 10,000 times a second and keeps 10,000 fresh tuples alive across those yields,
long enough for them to reach the oldest generation, which brings on a full collection every few
cycles.

The triggerer imports it by classpath (``loop_lag_trigger.LoopLagTrigger``) with ``bench/`` on
``PYTHONPATH``; it never fires an event.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

CLASSPATH = "loop_lag_trigger.LoopLagTrigger"


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _append(path: str, line: str) -> None:
    with open(path, "a") as sink:
        sink.write(line)


_patched_calls = [0]


async def cleanup_finished_triggers(self: Any) -> list[int]:
    """
    Airflow 3.3's ``TriggerRunner.cleanup_finished_triggers`` with the same handling of each finished
    trigger, but it selects the finished ones first and yields once per finished trigger, not once per
    running one.
    """
    _patched_calls[0] += 1
    finished_ids: list[int] = []
    for trigger_id in [trigger_id for trigger_id, details in self.triggers.items() if details["task"].done()]:
        details = self.triggers[trigger_id]
        finished_ids.append(trigger_id)
        saved_exc = None
        try:
            details["task"].result()
        except (asyncio.CancelledError, SystemExit, KeyboardInterrupt):
            del self.triggers[trigger_id]
            continue
        except BaseException as error:
            self.log.exception("Trigger %s exited with error %s", details["name"], error, trigger_id=trigger_id)
            saved_exc = error
        if details["events"] == 0:
            self.log.error(
                "Trigger exited without sending an event. Dependent tasks will be failed.",
                name=details["name"],
                trigger_id=trigger_id,
            )
            self.failed_triggers.append((trigger_id, saved_exc))
        del self.triggers[trigger_id]
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    return finished_ids


class LoopLagTrigger(BaseTrigger):
    """
    Sample the loop's lag every ``period`` seconds and flush a record to ``path`` every ``flush`` seconds.

    :param path: the JSON-lines file to append to.
    :param period: seconds between lag samples.
    :param flush: seconds between records.
    :param freeze_at_tasks: freeze the garbage collector once the loop holds this many tasks; 0: never.
    :param patch_cleanup: replace the runner's clean-up pass with :func:`cleanup_finished_triggers`.
    """

    def __init__(
        self,
        path: str,
        period: float = 0.05,
        flush: float = 1.0,
        freeze_at_tasks: int = 0,
        patch_cleanup: bool = False,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.path = path
        self.period = period
        self.flush = flush
        self.freeze_at_tasks = freeze_at_tasks
        self.patch_cleanup = patch_cleanup

    def serialize(self) -> tuple[str, dict[str, Any]]:
        kwargs = {"path": self.path, "period": self.period, "flush": self.flush}
        return CLASSPATH, {**kwargs, "freeze_at_tasks": self.freeze_at_tasks, "patch_cleanup": self.patch_cleanup}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        if self.patch_cleanup:
            from airflow.jobs.triggerer_job_runner import TriggerRunner

            # The runner looks the method up on each turn of its loop, so the class attribute is enough.
            TriggerRunner.cleanup_finished_triggers = cleanup_finished_triggers  # type: ignore[method-assign]
        collections: list[tuple[int, float]] = []
        started: dict[str, float] = {}

        def on_collection(phase: str, info: dict[str, Any]) -> None:
            if phase == "start":
                started["at"] = time.perf_counter()
            elif "at" in started:
                collections.append((info["generation"], time.perf_counter() - started.pop("at")))

        gc.callbacks.append(on_collection)
        lags: list[float] = []
        next_flush = time.monotonic() + self.flush
        frozen = False
        frozen_objects = records = 0
        try:
            while True:
                expected = time.monotonic() + self.period
                await asyncio.sleep(self.period)
                now = time.monotonic()
                lags.append(max(0.0, now - expected))
                if now < next_flush:
                    continue
                next_flush = now + self.flush
                tasks = len(asyncio.all_tasks())
                if self.freeze_at_tasks and not frozen and tasks >= self.freeze_at_tasks:
                    gc.collect()
                    gc.freeze()
                    frozen = True
                # The probe's own freeze or the provider's ``freeze_triggerer_heap`` setting. Counting walks
                # every frozen object (about 30 ms at 10,000 triggers), so only every 30th record.
                if records % 30 == 0:
                    frozen_objects = gc.get_freeze_count()
                records += 1
                usage = resource.getrusage(resource.RUSAGE_SELF)
                record = {
                    "time": time.time(),
                    "pid": os.getpid(),
                    "cpu_s": usage.ru_utime + usage.ru_stime,
                    "rss_kib": _rss_kib(),
                    "tasks": tasks,
                    "frozen_objects": frozen_objects,
                    # Proof that the runner calls the patched pass: it counts its calls.
                    "patched_cleanup_calls": _patched_calls[0],
                    "lag_s": [round(lag, 4) for lag in lags],
                    "gc": [[generation, round(seconds, 4)] for generation, seconds in collections],
                }
                lags, collections[:] = [], []
                # In a thread: trigger code never blocks the loop it measures, not even on a small write.
                await asyncio.to_thread(_append, self.path, json.dumps(record) + "\n")
        finally:
            gc.callbacks.remove(on_collection)
        yield TriggerEvent({})  # never reached: the probe runs until the triggerer stops
