"""
Waiting on a render from a task: the status trigger built in one place, and run on the worker when a
task does not defer.

The operator and the sensor both use these; the trigger module itself only polls.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from heygen_provider.models.event import VideoEvent

if TYPE_CHECKING:
    from datetime import timedelta

    from airflow.sdk import Context

    from heygen_provider.triggers.heygen import HeyGenVideoStatusTrigger


def status_trigger(
    *,
    video_id: str,
    heygen_conn_id: str,
    poll_interval: float,
    timeout: float,
    execution_timeout: timedelta | None,
    context: Context,
    cancel_on_kill: bool = False,
) -> HeyGenVideoStatusTrigger:
    """
    The trigger that waits on ``video_id``, with both deadlines as absolute UNIX times.

    :param timeout: seconds from now until the render counts as timed out.
    :param execution_timeout: the task's ``execution_timeout``, which Airflow 3 does not enforce while a
        task is deferred (apache/airflow#69678), so the trigger does.
    :param cancel_on_kill: the trigger deletes the video when the deferred task is marked failed.
    """
    from heygen_provider.triggers.heygen import HeyGenVideoStatusTrigger

    return HeyGenVideoStatusTrigger(
        video_id=video_id,
        heygen_conn_id=heygen_conn_id,
        poll_interval=poll_interval,
        end_time=time.time() + timeout,
        execution_deadline=execution_deadline(execution_timeout, context),
        cancel_on_kill=cancel_on_kill,
    )


def execution_deadline(execution_timeout: timedelta | None, context: Context) -> float | None:
    """UNIX time at which the task's ``execution_timeout`` runs out, counted from the task's start."""
    if execution_timeout is None:
        return None
    started = getattr(context.get("ti"), "start_date", None)
    start = started.timestamp() if started is not None else time.time()
    return start + execution_timeout.total_seconds()


def wait_for_event(trigger: HeyGenVideoStatusTrigger) -> VideoEvent:
    """Run ``trigger`` to its event on the calling (worker) thread: the blocking mode of a task."""
    from heygen_provider.hooks.cache import close_shared_sessions

    async def first_event() -> VideoEvent:
        try:
            async for event in trigger.run():
                return VideoEvent.from_payload(event.payload)
            raise RuntimeError("HeyGenVideoStatusTrigger ended without an event")
        finally:
            await close_shared_sessions()

    return asyncio.run(first_event())
