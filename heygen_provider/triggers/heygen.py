"""
:class:`HeyGenVideoStatusTrigger`: waits on a render in the triggerer, without a worker slot; and the
trigger built in one place for the operators and the sensor (:func:`status_trigger`), run on the
worker when a task does not defer (:func:`wait_for_event`).

The trigger serializes only ids, the poll interval and absolute wall-clock deadlines, so a triggerer
restart (or another triggerer taking over) rebuilds it with the same deadline. It never submits
anything: the submit happens on the worker, so re-running ``run()`` can never pay for a second render.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

# Imported with the class, not at the first poll: the triggerer imports trigger classes once, while an
# import inside run() would stall every trigger sharing the event loop.
from heygen_provider._checks import positive_seconds
from heygen_provider._compat import AirflowNotFoundException
from heygen_provider.exceptions import HeyGenError, HeyGenTransientError
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.kill import TRIGGER_QUESTION_TIMEOUT, atask_was_killed
from heygen_provider.models.event import VideoEvent
from heygen_provider.models.status import VIDEO_URL_CHECKS, VideoStatusResponse, missing_video_url_error
from heygen_provider.progress import RenderProgress
from heygen_provider.triggers.loop_state import TriggererLoopState
from heygen_provider.triggers.status_poller import (
    POLL_RETRY_POLICY,
    DeadlineReached,
    Subscription,
    status_subscription,
)
from heygen_provider.vocabulary import DEFAULT_CONN_ID, DEFAULT_POLL_INTERVAL

if TYPE_CHECKING:
    from datetime import timedelta

    from airflow.sdk import Context

__all__ = [
    "POLL_RETRY_POLICY",
    "TRIGGER_CLASSPATH",
    "HeyGenVideoStatusTrigger",
    "VideoUrlChecks",
    "execution_deadline",
    "first_event_payload",
    "status_trigger",
    "wait_for_event",
]

#: Where Airflow finds the trigger class again when it rebuilds a serialized trigger. Written out, not
#: taken from the class: triggers already in users' databases name this path, so renaming or moving the
#: class must leave this importable (a test imports it).
TRIGGER_CLASSPATH = "heygen_provider.triggers.heygen.HeyGenVideoStatusTrigger"

#: A log writer's ``write``: ``(logger method, message, *args)``, awaited without blocking the loop.
LogWrite = Callable[..., Any]

#: Airflow 3.3 and later call ``BaseTrigger.on_kill`` when a person acts on a deferred task; on 3.1 and 3.2
#: a trigger sees only its cancellation, whatever its cause, and asks in ``run()`` itself.
TRIGGERER_CALLS_ON_KILL = "on_kill" in vars(BaseTrigger)


class VideoUrlChecks:
    """
    The "completed without a video URL" rule, for every wait (the trigger's and the sensor's): HeyGen
    sometimes calls a render ``completed`` a moment before its ``video_url`` is there, so such an answer
    is asked about again, up to ``VIDEO_URL_CHECKS`` times in one wait (``heygen_provider.models.status``).

    :param video_id: the HeyGen video id.
    """

    def __init__(self, video_id: str) -> None:
        self.video_id = video_id
        #: ``completed`` answers without a ``video_url`` so far.
        self.count = 0

    def error_after(self, status: VideoStatusResponse) -> HeyGenError | None:
        """
        Count ``status`` if it is such an answer; the error that ends the wait once there were too many.
        """
        if not status.awaiting_video_url:
            return None
        self.count += 1
        return missing_video_url_error(self.video_id, self.count) if self.count >= VIDEO_URL_CHECKS else None


class HeyGenVideoStatusTrigger(BaseTrigger):
    """
    Poll a HeyGen render until it ends or a deadline passes, then yield exactly one event.

    Transient faults (429, 5xx, network errors) are logged and polling goes on until the deadline; a
    fault that waiting cannot mend (401, 403, 404, a bad connection) ends the wait with an ``error``
    event at once. The event is a :class:`~heygen_provider.models.event.VideoEvent` payload.

    :param video_id: the HeyGen video id.
    :param heygen_conn_id: the Airflow connection id; the key itself is never serialized.
    :param poll_interval: seconds between status calls.
    :param end_time: UNIX time at which the render counts as timed out.
    :param execution_deadline: UNIX time at which the task's ``execution_timeout`` runs out, which
        Airflow 3 does not enforce while a task is deferred.
    :param cancel_on_kill: delete the video (``DELETE /v3/videos/{id}``) when the deferred task is killed:
        marked failed, or its run marked failed. Not when the triggerer stops or restarts, hands the
        trigger to another triggerer, or the wait ends (see :mod:`heygen_provider.kill`).
    :param slot_wait_seconds: seconds the create waited for a render slot, handed back in the event's
        payload (``slot_wait_seconds``) for the task's result.
    """

    def __init__(
        self,
        video_id: str,
        heygen_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        end_time: float | None = None,
        execution_deadline: float | None = None,
        *,
        cancel_on_kill: bool = False,
        slot_wait_seconds: float = 0.0,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.slot_wait_seconds = slot_wait_seconds
        self.video_id = video_id
        self.heygen_conn_id = heygen_conn_id
        self.poll_interval = positive_seconds("poll_interval", poll_interval)
        self.end_time = end_time
        self.execution_deadline = execution_deadline
        self.cancel_on_kill = cancel_on_kill
        self._url_checks = VideoUrlChecks(video_id)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        # A subclass names itself; the class itself names the path stored triggers were written with.
        classpath = (
            TRIGGER_CLASSPATH
            if type(self) is HeyGenVideoStatusTrigger
            else f"{type(self).__module__}.{type(self).__qualname__}"
        )
        return (
            classpath,
            {
                "video_id": self.video_id,
                "heygen_conn_id": self.heygen_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "execution_deadline": self.execution_deadline,
                # Only when on: a trigger that does not delete serializes the arguments of a provider
                # without the option, which an older provider's triggerer still loads.
                **({"cancel_on_kill": True} if self.cancel_on_kill else {}),
                **({"slot_wait_seconds": self.slot_wait_seconds} if self.slot_wait_seconds else {}),
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        state = TriggererLoopState.of_running_loop()
        progress = RenderProgress(
            self.video_id,
            poll_interval=self.poll_interval,
            deadline=self._next_deadline()[0],
            budget=state.progress_budget,
        )
        async with status_subscription(self.heygen_conn_id, self.video_id, self.poll_interval, progress) as waiting:
            try:
                event = await self._poll_until_done(waiting, progress, state.log_writer.write)
            except asyncio.CancelledError:
                if self.cancel_on_kill and not TRIGGERER_CALLS_ON_KILL:
                    await self._delete_if_killed(TRIGGER_QUESTION_TIMEOUT, state)
                raise
        payload = event.to_payload()
        if self.slot_wait_seconds:
            payload["slot_wait_seconds"] = self.slot_wait_seconds
        yield TriggerEvent(payload)

    async def on_kill(self) -> None:
        """Airflow 3.3+: a person acted on the deferred task; delete the video if it was marked failed."""
        if self.cancel_on_kill:
            async with TriggererLoopState.of_running_loop() as state:
                # No bound of its own: Airflow cancels on_kill after [triggerer] on_kill_timeout (30 s).
                await self._delete_if_killed(None, state)

    async def _delete_if_killed(self, question_timeout: float | None, state: TriggererLoopState) -> None:
        """
        Delete the video when the task instance is marked failed; anything else leaves it rendering.

        :param question_timeout: seconds allowed for Airflow's answer about the task instance's state.
        :param state: the loop's state, held by the caller.
        """
        write_log = state.log_writer.write
        if self.task_instance is None:
            killed, reason = False, "no task instance is known"
        else:
            try:
                killed = await atask_was_killed(self.task_instance, question_timeout)
            except Exception as error:
                killed, reason = False, f"Airflow could not say whether its task was killed ({error!r})"
            else:
                reason = "its task is not marked failed"
        if not killed:
            await write_log(self.log.info, "HeyGen video %s left as it is (cancel_on_kill): %s", self.video_id, reason)
            return
        try:
            deleted = await HeyGenHook(self.heygen_conn_id).adelete_video(self.video_id)
        except (HeyGenError, AirflowNotFoundException) as error:
            await write_log(
                self.log.warning, "HeyGen video %s: could not delete it (cancel_on_kill): %s", self.video_id, error
            )
            return
        await write_log(
            self.log.warning,
            "HeyGen video %s %s (cancel_on_kill): its task was marked failed",
            self.video_id,
            "deleted" if deleted else "was already gone",
        )

    async def _poll_until_done(
        self, subscription: Subscription, progress: RenderProgress, write_log: LogWrite
    ) -> VideoEvent:
        # Polled alone, thousands of triggers rebuilt together after a triggerer restart would poll in
        # lockstep; a random first wait spreads them over one interval (cohorts have random phases).
        delay = random.uniform(0, self.poll_interval)
        self._url_checks = VideoUrlChecks(self.video_id)
        while True:
            deadline, which = self._next_deadline()
            if deadline <= time.time():
                return await self._last_look(subscription, which, write_log)
            try:
                # Handed straight on, not kept in a local: a status held from one poll to the next
                # would outlive a garbage-collection generation at every poll, for every trigger.
                event = await self._on_status(
                    await subscription.next_status(after=delay, deadline=deadline), progress, write_log
                )
            except DeadlineReached:
                return await self._last_look(subscription, which, write_log)
            except HeyGenTransientError as error:
                await write_log(
                    self.log.warning, "HeyGen video %s: transient error, still waiting: %s", self.video_id, error
                )
                retry_after = POLL_RETRY_POLICY.capped_retry_after(error)
                delay = max(self.poll_interval, retry_after or 0.0)
                continue
            except (HeyGenError, AirflowNotFoundException) as error:
                return VideoEvent.from_error(self.video_id, error)
            if event is not None:
                return event
            delay = self.poll_interval

    async def _on_status(
        self, status: VideoStatusResponse, progress: RenderProgress, write_log: LogWrite
    ) -> VideoEvent | None:
        """Log what a status says and return the event it ends the wait with, if any."""
        # On a change, else at most once a minute: a line per poll costs more CPU than the poll at scale.
        if (line := progress.line(status.service_status, time.time())) is not None:
            # A failed or cancelled render is worth a warning in the task's log, not one more info line.
            ended_badly = status.status.is_terminal and not status.is_success
            await write_log(self.log.warning if ended_badly else self.log.info, line)
        if status.is_terminal:
            return VideoEvent.from_status(status)
        if (error := self._url_checks.error_after(status)) is not None:
            return VideoEvent.from_error(self.video_id, error)
        return None

    def _next_deadline(self) -> tuple[float, str]:
        candidates = [
            (self.end_time, "render timeout"),
            (self.execution_deadline, "execution_timeout"),
        ]
        present = [(moment, name) for moment, name in candidates if moment is not None]
        return min(present) if present else (float("inf"), "")

    async def _last_look(self, subscription: Subscription, which: str, write_log: LogWrite) -> VideoEvent:
        """
        One status check at the deadline: a trigger rebuilt late (after a triggerer outage) must not
        report a timeout for a video that has finished meanwhile.
        """
        try:
            status = await subscription.status_now()
        except (HeyGenError, AirflowNotFoundException) as error:
            await write_log(
                self.log.warning, "HeyGen video %s: last status check at the deadline failed: %s", self.video_id, error
            )
        else:
            if status.is_terminal:
                return VideoEvent.from_status(status)
        return self._timeout_event(which)

    def _timeout_event(self, which: str) -> VideoEvent:
        return VideoEvent.timeout(
            self.video_id,
            f"the render did not finish before its {which} (polled every {self.poll_interval:g} s)",
        )


# -- waiting from a task: the operators and the sensor build the trigger here ---------------------------


def status_trigger(
    *,
    video_id: str,
    heygen_conn_id: str,
    poll_interval: float,
    timeout: float,
    execution_timeout: timedelta | None,
    context: Context,
    cancel_on_kill: bool = False,
    slot_wait_seconds: float = 0.0,
) -> HeyGenVideoStatusTrigger:
    """
    The trigger that waits on ``video_id``, with both deadlines as absolute UNIX times.

    :param timeout: seconds from now until the render counts as timed out.
    :param execution_timeout: the task's ``execution_timeout``, which Airflow 3 does not enforce while a
        task is deferred (apache/airflow#69678), so the trigger does.
    :param cancel_on_kill: the trigger deletes the video when the deferred task is marked failed.
    :param slot_wait_seconds: seconds the create waited for a render slot, handed back with the event.
    """
    return HeyGenVideoStatusTrigger(
        video_id=video_id,
        heygen_conn_id=heygen_conn_id,
        poll_interval=poll_interval,
        end_time=time.time() + timeout,
        execution_deadline=execution_deadline(execution_timeout, context),
        cancel_on_kill=cancel_on_kill,
        slot_wait_seconds=slot_wait_seconds,
    )


def execution_deadline(execution_timeout: timedelta | None, context: Context) -> float | None:
    """UNIX time at which the task's ``execution_timeout`` runs out, counted from the task's start."""
    if execution_timeout is None:
        return None
    started = getattr(context.get("ti"), "start_date", None)
    start = started.timestamp() if started is not None else time.time()
    return start + execution_timeout.total_seconds()


def first_event_payload(trigger: BaseTrigger) -> dict[str, Any]:
    """
    Run ``trigger`` to its first event on the calling (worker) thread and return the event's payload: the
    blocking mode of a task. The loop's state closes with the trigger's wait, so the loop ends with no
    connection open.
    """

    async def first_payload() -> dict[str, Any]:
        async for event in trigger.run():
            payload: dict[str, Any] = event.payload
            return payload
        raise RuntimeError(f"{type(trigger).__name__} ended without an event")

    return asyncio.run(first_payload())


def wait_for_event(trigger: HeyGenVideoStatusTrigger) -> VideoEvent:
    """Run ``trigger`` to its event on the calling (worker) thread: the blocking mode of a task."""
    return VideoEvent.from_payload(first_event_payload(trigger))
