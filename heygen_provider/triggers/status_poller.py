"""
One status poller per event loop and connection, shared by every HeyGen status trigger on that loop.

Polled one by one, 10,000 renders at a 30 s interval cost 333 status calls a second, nearly all
answered "still processing". v3 reports up to 100 videos in one call (``GET /v3/videos/statuses``), so
the poller groups the videos of the same poll interval into *cohorts* of at most 100. Each cohort
polls on its own schedule (a random phase, then every interval): N videos cost ``ceil(N / 100)``
bulk calls per interval, plus one ``GET /v3/videos/{id}`` for each video that has ended, because the
bulk answer carries no URLs. A trigger joins the cohort of its interval that polls next and has room,
so its first status comes within one interval, and then one every interval.

A render the poller sees end frees a render slot at HeyGen: the poller tells the connection's queue of
waits for a slot (:class:`~heygen_provider.triggers.loop_state.SlotQueue`), which wakes the longest wait.

Faults stay where they belong: ``not_found`` for one id is that trigger's error (its own ``GET``
confirms it first), a 429 or 5xx on a bulk call pauses the whole poller (``Retry-After`` honoured and
capped by the retry policy) without ending any wait, and a connection whose bulk call answers 400 or
404 (a proxy, an older API) is polled video by video from then on, with one warning. The ``legacy``
API version has no bulk call and is polled video by video; a poller reads from its connection whether
there is one at its first wait, not at every poll.

What a poll costs is kept flat at scale by rules the tests check: nothing made for one poll (a
status, a list of waiters) is held until the next one, a cohort keeps its members for the whole wait,
each wait in a cohort has one deadline timer for the whole wait, and a wait polled alone arms none
(it sleeps until its next poll, and only when the deadline comes first does it sleep until that).
Measured in ``docs/benchmarks.rst``.

The pollers live in the loop's :class:`~heygen_provider.triggers.loop_state.TriggererLoopState`.
Nothing here needs to survive a restart: a trigger serializes only its own arguments and a rebuilt
trigger joins again. Airflow 3.3's shared-stream triggers (``shared_stream_key()``) are not used: they serve
:class:`~airflow.triggers.base.BaseEventTrigger` (asset watchers) with one broadcast stream opened from
one trigger's arguments, which cannot know the set of video ids its siblings wait on, and they do not
exist on Airflow 3.1 and 3.2. See ``docs/deployment.rst``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator
from typing import cast

from heygen_provider.api_versions import MAX_BULK_IDS, bulk_groups, takes_in_bulk
from heygen_provider.exceptions import HeyGenAPIError, HeyGenTransientError
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.models.status import VideoStatusResponse
from heygen_provider.progress import RenderProgress
from heygen_provider.retry import RetryPolicy
from heygen_provider.triggers.loop_state import SlotQueue, TriggererLoopState

#: One attempt per call: the poller and the triggers wait out transient faults, within their deadlines.
POLL_RETRY_POLICY = RetryPolicy(attempts=1)
#: Answers to a bulk call that mean this connection has none, or none that takes our URLs (414: a proxy
#: with a shorter URL limit than HeyGen's): poll video by video instead.
_NO_BULK_CALL = frozenset({400, 404, 405, 414})

_log = logging.getLogger(__name__)


class DeadlineReached(Exception):
    """The trigger's deadline came before the next status."""


class _Cohort:
    """Up to 100 subscriptions of one poll interval, polled together."""

    def __init__(self, poller: StatusPoller, interval: float) -> None:
        self.poller = poller
        self.interval = interval
        self.next_poll = time.monotonic() + random.uniform(0, interval)
        # Kept for the whole wait, not rebuilt per poll: at 10,000 triggers every object that lives from
        # one poll to the next ends up in the oldest generation and brings on full garbage collections.
        self.members: set[Subscription] = set()
        self.task: asyncio.Task[None] | None = None

    def join(self, subscription: Subscription) -> None:
        self.members.add(subscription)
        if self.task is None:
            self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while self.members:
            now = time.monotonic()
            wake = max(self.next_poll, self.poller.resume_at)
            if wake > now:
                await asyncio.sleep(wake - now)
                continue
            # Kept on schedule; after a pause the next poll is one interval from now.
            self.next_poll = max(self.next_poll + self.interval, now + self.interval / 2)
            waiting = [subscription for subscription in self.members if subscription.waiting]
            if not waiting:
                continue
            try:
                await self.poller.poll(waiting)
            except Exception as error:  # never leave a trigger waiting on a poll that died
                _log.exception("HeyGen status poll of %d videos failed", len(waiting))
                _settle(waiting, error)


class StatusPoller:
    """
    The shared poller of one connection on one event loop, kept in the loop's
    :class:`~heygen_provider.triggers.loop_state.TriggererLoopState`; triggers reach it through
    :func:`status_subscription`.

    :param conn_id: the ``heygen`` connection.
    :param slots: the connection's waits for a render slot, told of each render that ends.
    """

    def __init__(self, conn_id: str, slots: SlotQueue | None = None) -> None:
        self.conn_id = conn_id
        self.slots = slots if slots is not None else SlotQueue()
        self.hook = HeyGenHook(conn_id, retry_policy=POLL_RETRY_POLICY)
        self.cohorts: list[_Cohort] = []
        #: ``time.monotonic()`` before which no bulk call is sent (after a 429 or 5xx).
        self.resume_at = 0.0
        self.failures = 0
        #: The connection's bulk call proved missing: every video is polled alone.
        self.per_video = False
        #: Whether the connection's API has a bulk call, learned from its settings at the first wait.
        self._has_bulk_call: bool | None = None

    async def polls_in_bulk(self) -> bool:
        """
        Whether this connection's videos are polled in bulk: its API has a bulk call (asked once, at the
        first wait) that has not proved missing.
        """
        if self._has_bulk_call is None:
            settings = await self.hook.aget_settings()
            self._has_bulk_call = settings.api.bulk_status is not None
        return self._has_bulk_call and not self.per_video

    async def status_now(self, video_id: str) -> VideoStatusResponse:
        """``video_id``'s status, asked alone and at once."""
        return self._seen(await self.hook.aget_video_status(video_id))

    def _seen(self, status: VideoStatusResponse) -> VideoStatusResponse:
        """``status``, after telling the slot queue when it says the render ended."""
        if status.status.is_terminal:
            self.slots.render_ended()
        return status

    def join(self, subscription: Subscription) -> _Cohort:
        """Place ``subscription`` in the cohort of its interval that polls next and has room, or a new one."""
        interval = subscription.interval
        open_cohorts = [c for c in self.cohorts if c.interval == interval and len(c.members) < MAX_BULK_IDS]
        cohort = min(open_cohorts, key=lambda c: c.next_poll) if open_cohorts else None
        if cohort is None:
            cohort = _Cohort(self, interval)
            self.cohorts.append(cohort)
        cohort.join(subscription)
        return cohort

    def leave(self, cohort: _Cohort, subscription: Subscription) -> None:
        cohort.members.discard(subscription)
        if not cohort.members:
            self.cohorts.remove(cohort)
            if cohort.task is not None:
                cohort.task.cancel()

    async def poll(self, waiting: list[Subscription]) -> None:
        """
        Bulk calls for a cohort's waiting subscriptions, as few as keep each URL within a safe length
        (:func:`~heygen_provider.api_versions.bulk_groups`), then each one's own answer. A call that fails
        ends only the waits of its own ids.
        """
        by_id: dict[str, list[Subscription]] = {}
        for subscription in waiting:
            by_id.setdefault(subscription.video_id, []).append(subscription)
        statuses: dict[str, VideoStatusResponse] = {}
        answered: list[str] = []
        for group in bulk_groups(list(by_id)):
            if not self.per_video:
                try:
                    statuses.update(await self.hook.aget_video_statuses(group))
                except HeyGenTransientError as error:
                    self._pause(error, len(group))  # these waits and the groups after stay, for the next poll
                    break
                except HeyGenAPIError as error:
                    if error.http_status not in _NO_BULK_CALL:
                        _settle([subscription for video_id in group for subscription in by_id[video_id]], error)
                        continue
                    self._fall_back(error)
                except Exception as error:  # a broken or missing connection: each wait ends with it
                    _settle([subscription for video_id in group for subscription in by_id[video_id]], error)
                    continue
                self.failures = 0
            answered.extend(group)
        ended: dict[str, list[Subscription]] = {}
        now = time.time()
        for video_id in answered:
            status = statuses.get(video_id)
            for subscription in by_id[video_id]:
                # An ended render's URLs (or HeyGen's reason) come from its own call; so does an id the
                # bulk answer left out or called not_found, which that call confirms or corrects.
                if status is None or status.status.is_terminal:
                    ended.setdefault(video_id, []).append(subscription)
                elif not subscription.is_quiet(status, now):
                    subscription.deliver(status)
        if ended:
            await asyncio.gather(*(self._fetch(video_id, subscriptions) for video_id, subscriptions in ended.items()))

    async def _fetch(self, video_id: str, subscriptions: list[Subscription]) -> None:
        try:
            status = await self.hook.aget_video_status(video_id)
        except Exception as error:  # the trigger decides: transient means wait on, others end its wait
            _settle(subscriptions, error)
        else:
            _settle(subscriptions, self._seen(status))

    def _pause(self, error: HeyGenTransientError, videos: int) -> None:
        self.failures += 1
        delay = POLL_RETRY_POLICY.wait_after(error, self.failures)
        self.resume_at = max(self.resume_at, time.monotonic() + delay)
        _log.warning(
            "HeyGen bulk status call for %d videos failed (%s); every poll on connection %s pauses for %.1f s",
            videos,
            error,
            self.conn_id,
            delay,
        )

    def _fall_back(self, error: HeyGenAPIError) -> None:
        if not self.per_video:
            _log.warning(
                "HeyGen's bulk status call answered HTTP %s on connection %s; polling each video alone from now on",
                error.http_status,
                self.conn_id,
            )
        self.per_video = True

    def close(self) -> None:
        for cohort in self.cohorts:
            if cohort.task is not None:
                cohort.task.cancel()
        self.cohorts.clear()


class Subscription:
    """
    One trigger's place in the poller: its video, its interval and, once joined, its cohort.

    :param poller: the loop's poller for the trigger's connection.
    :param video_id: the HeyGen video id.
    :param interval: the trigger's poll interval.
    :param progress: the trigger's progress lines; a status that changes nothing and needs no line
        does not wake the trigger, which keeps thousands of waits free of per-poll allocations.
    """

    def __init__(
        self, poller: StatusPoller, video_id: str, interval: float, progress: RenderProgress | None = None
    ) -> None:
        self.poller = poller
        self.video_id = video_id
        self.interval = interval
        self.progress = progress
        self.cohort: _Cohort | None = None
        # An odd or over-long id is asked about alone, so that only its own wait can fail because of it.
        self._bulk_id = takes_in_bulk(video_id)
        self._future: asyncio.Future[VideoStatusResponse] | None = None
        # One deadline timer for the whole wait, not one per poll.
        self._timer: asyncio.TimerHandle | None = None
        self._timer_deadline: float | None = None
        self._deadline_passed = False

    @property
    def waiting(self) -> bool:
        """The trigger waits on this subscription's next status."""
        return self._future is not None and not self._future.done()

    async def next_status(self, *, after: float, deadline: float) -> VideoStatusResponse:
        """
        The video's next status that matters to its trigger: from its cohort's bulk polls on v3 (a
        status that needs no progress line is skipped), or, polled alone, after ``after`` seconds.

        :param after: seconds to wait first when polled alone (the trigger's interval or back-off).
        :param deadline: UNIX time by which an answer must come.
        :raises DeadlineReached: when ``deadline`` comes first.
        :raises HeyGenError: what the status call raised for this video.
        """
        if not self._bulk_id or not await self.poller.polls_in_bulk():
            return await self._alone(after, deadline)
        self._arm(deadline)
        if self._deadline_passed:
            raise DeadlineReached
        if self.cohort is None:
            self.cohort = self.poller.join(self)
        future: asyncio.Future[VideoStatusResponse] = asyncio.get_running_loop().create_future()
        self._future = future
        try:
            return await future
        finally:
            self._future = None

    def is_quiet(self, status: VideoStatusResponse, now: float) -> bool:
        """The trigger would do nothing with ``status``: not ended, no change, no progress line due."""
        return self.progress is not None and self.progress.is_quiet(status.service_status, now)

    def deliver(self, outcome: VideoStatusResponse | BaseException) -> None:
        future = self._future
        if future is None or future.done():  # cancelled, or its deadline came
            return
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

    def _arm(self, deadline: float) -> None:
        if deadline == self._timer_deadline:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_deadline = deadline
        self._deadline_passed = False
        # A timer handle, not asyncio.wait_for: no extra task for each of thousands of triggers.
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(loop.time() + max(0.0, deadline - time.time()), self._expire)

    def _expire(self) -> None:
        self._deadline_passed = True
        self.deliver(DeadlineReached())

    async def _alone(self, after: float, deadline: float) -> VideoStatusResponse:
        remaining = deadline - time.time()
        if after >= remaining:
            await asyncio.sleep(max(0.0, remaining))
            raise DeadlineReached
        await asyncio.sleep(after)
        return await self.poller.status_now(self.video_id)

    async def status_now(self) -> VideoStatusResponse:
        """The video's status, asked alone and at once (at the deadline, for a last look)."""
        return await self.poller.status_now(self.video_id)

    def leave(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.cohort is not None:
            self.poller.leave(self.cohort, self)
            self.cohort = None


@contextlib.asynccontextmanager
async def status_subscription(
    conn_id: str, video_id: str, interval: float, progress: RenderProgress | None = None
) -> AsyncIterator[Subscription]:
    """
    A place for ``video_id`` in the running loop's poller for ``conn_id``, while a trigger waits: the
    one ``async with`` around a trigger's wait.

    It holds the loop's :class:`~heygen_provider.triggers.loop_state.TriggererLoopState` (the last wait
    to leave closes it, so a loop that ends leaves no task or connection behind) and, with
    ``[heygen] freeze_triggerer_heap`` on, counts the wait in the loop's
    :class:`~heygen_provider.triggers.heap.HeapFreezer`.

    :param progress: the trigger's progress lines (see :class:`Subscription`).
    """
    # Made before it is held: a bad setting value then fails the trigger, not the state's count.
    state = TriggererLoopState.of_running_loop()
    async with state:
        poller = cast("StatusPoller | None", state.pollers.get(conn_id))
        if poller is None:
            poller = StatusPoller(conn_id, state.slot_queue(conn_id))
            state.pollers[conn_id] = poller
        subscription = Subscription(poller, video_id, interval, progress)
        if state.freezer is not None:
            state.freezer.join()
        try:
            yield subscription
        finally:
            subscription.leave()
            if state.freezer is not None:
                state.freezer.leave()


def _settle(subscriptions: list[Subscription], outcome: VideoStatusResponse | BaseException) -> None:
    for subscription in subscriptions:
        subscription.deliver(outcome)
