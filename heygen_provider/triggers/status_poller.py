"""
One status poller per event loop and connection, shared by every HeyGen status trigger on that loop.

Polled one by one, 10,000 renders at a 30 s interval cost 333 status calls a second, nearly all
answered "still processing". v3 reports up to 100 videos in one call (``GET /v3/videos/statuses``), so
the poller groups the videos of the same poll interval into *cohorts* of at most 100. Each cohort
polls on its own schedule (a random phase, then every interval): N videos cost ``ceil(N / 100)``
bulk calls per interval, plus one ``GET /v3/videos/{id}`` for each video that has ended, because the
bulk answer carries no URLs. A trigger joins the cohort of its interval that polls next and has room,
so its first status comes within one interval, as before, and then one every interval.

Faults stay where they belong: ``not_found`` for one id is that trigger's error (its own ``GET``
confirms it first), a 429 or 5xx on a bulk call pauses the whole poller (``Retry-After`` honoured and
capped by the retry policy) without ending any wait, and a connection whose bulk call answers 400 or
404 (a proxy, an older API) is polled video by video from then on, with one warning. The ``legacy``
generation has no bulk call and is polled video by video.

Nothing here needs to survive a restart: triggers serialize as before and a rebuilt trigger joins
again. Airflow 3.3's shared-stream triggers (``shared_stream_key()``) were not used: they serve
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
import weakref
from collections.abc import AsyncIterator

from heygen_provider.exceptions import HeyGenAPIError, HeyGenTransientError
from heygen_provider.generations import MAX_BULK_IDS
from heygen_provider.hooks.heygen import HeyGenHook
from heygen_provider.models.status import VideoStatusResponse
from heygen_provider.retry import RetryPolicy

#: One attempt per call: the poller and the triggers wait out transient faults, within their deadlines.
POLL_RETRY_POLICY = RetryPolicy(attempts=1)
#: Answers to a bulk call that mean this connection has none: poll video by video instead.
_NO_BULK_CALL = frozenset({400, 404, 405})

_log = logging.getLogger(__name__)
_pollers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, StatusPoller]] = weakref.WeakKeyDictionary()


class DeadlineReached(Exception):
    """The trigger's deadline came before the next status."""


class _Cohort:
    """Up to 100 videos of one poll interval, polled together."""

    def __init__(self, poller: StatusPoller, interval: float) -> None:
        self.poller = poller
        self.interval = interval
        self.next_poll = time.monotonic() + random.uniform(0, interval)
        self.members = 0
        self.waiting: dict[str, list[asyncio.Future[VideoStatusResponse]]] = {}
        self.task: asyncio.Task[None] | None = None

    def wait(self, video_id: str) -> asyncio.Future[VideoStatusResponse]:
        future: asyncio.Future[VideoStatusResponse] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(video_id, []).append(future)
        if self.task is None:
            self.task = asyncio.ensure_future(self._run())
        return future

    def forget(self, video_id: str, future: asyncio.Future[VideoStatusResponse]) -> None:
        futures = self.waiting.get(video_id)
        if futures is not None and future in futures:
            futures.remove(future)
            if not futures:
                del self.waiting[video_id]

    async def _run(self) -> None:
        while self.members > 0:
            now = time.monotonic()
            wake = max(self.next_poll, self.poller.resume_at)
            if wake > now:
                await asyncio.sleep(wake - now)
                continue
            # Kept on schedule; after a pause the next poll is one interval from now.
            self.next_poll = max(self.next_poll + self.interval, now + self.interval / 2)
            waiting = {
                video_id: pending
                for video_id, futures in self.waiting.items()
                if (pending := [future for future in futures if not future.done()])
            }
            self.waiting = {}
            if not waiting:
                continue
            try:
                await self.poller.poll(self, waiting)
            except Exception as error:  # never leave a trigger waiting on a poll that died
                _log.exception("HeyGen status poll of %d videos failed", len(waiting))
                _settle_all(waiting, error)


class StatusPoller:
    """
    The shared poller of one connection on one event loop; triggers reach it through
    :func:`status_subscription`.

    :param conn_id: the ``heygen`` connection.
    """

    def __init__(self, conn_id: str) -> None:
        self.conn_id = conn_id
        self.hook = HeyGenHook(conn_id, retry_policy=POLL_RETRY_POLICY)
        self.cohorts: list[_Cohort] = []
        self.users = 0
        #: ``time.monotonic()`` before which no bulk call is sent (after a 429 or 5xx).
        self.resume_at = 0.0
        self.failures = 0
        #: The connection's bulk call proved missing: every video is polled alone.
        self.per_video = False

    def cohort_for(self, interval: float) -> _Cohort:
        """The cohort of ``interval`` that polls next and has room, or a new one."""
        open_cohorts = [c for c in self.cohorts if c.interval == interval and c.members < MAX_BULK_IDS]
        cohort = min(open_cohorts, key=lambda c: c.next_poll) if open_cohorts else None
        if cohort is None:
            cohort = _Cohort(self, interval)
            self.cohorts.append(cohort)
        cohort.members += 1
        return cohort

    def leave(self, cohort: _Cohort) -> None:
        cohort.members -= 1
        if cohort.members == 0:
            self.cohorts.remove(cohort)
            if cohort.task is not None:
                cohort.task.cancel()

    async def poll(self, cohort: _Cohort, waiting: dict[str, list[asyncio.Future[VideoStatusResponse]]]) -> None:
        """One bulk call for a cohort's waiting videos, then each one's own answer."""
        try:
            statuses = await self.hook.aget_video_statuses(list(waiting))
        except HeyGenTransientError as error:
            self._pause(error, len(waiting))
            for video_id, futures in waiting.items():
                cohort.waiting.setdefault(video_id, []).extend(futures)
            return
        except HeyGenAPIError as error:
            if error.http_status not in _NO_BULK_CALL:
                _settle_all(waiting, error)
                return
            self._fall_back(error)
            statuses = {}
        except Exception as error:  # a broken or missing connection: each wait ends with it
            _settle_all(waiting, error)
            return
        self.failures = 0
        ended = []
        for video_id, futures in waiting.items():
            status = statuses.get(video_id)
            # An ended render's URLs (or HeyGen's reason) come from its own call; so does an id the
            # bulk answer left out or called not_found, which that call confirms or corrects.
            if status is None or status.status.is_terminal:
                ended.append((video_id, futures))
            else:
                _settle(futures, status)
        if ended:
            await asyncio.gather(*(self._fetch(video_id, futures) for video_id, futures in ended))

    async def _fetch(self, video_id: str, futures: list[asyncio.Future[VideoStatusResponse]]) -> None:
        try:
            status = await self.hook.aget_video_status(video_id)
        except Exception as error:  # the trigger decides: transient means wait on, others end its wait
            _settle(futures, error)
        else:
            _settle(futures, status)

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
    """One trigger's place in the poller: its video, its interval and, once joined, its cohort."""

    def __init__(self, poller: StatusPoller, video_id: str, interval: float) -> None:
        self.poller = poller
        self.video_id = video_id
        self.interval = interval
        self.cohort: _Cohort | None = None
        # A comma would split the id in the bulk call's list; such an id is asked about alone.
        self._bulk_id = bool(video_id) and "," not in video_id and video_id.strip() == video_id

    async def next_status(self, *, after: float, deadline: float) -> VideoStatusResponse:
        """
        The video's next status: from its cohort's next bulk poll on v3, or, polled alone, after
        ``after`` seconds.

        :param after: seconds to wait first when polled alone (the trigger's interval or back-off).
        :param deadline: UNIX time by which an answer must come.
        :raises DeadlineReached: when ``deadline`` comes first.
        :raises HeyGenError: what the status call raised for this video.
        """
        settings = await self.poller.hook.aget_settings()
        if self.poller.per_video or settings.api.bulk_status is None or not self._bulk_id:
            return await self._alone(after, deadline)
        if self.cohort is None:
            self.cohort = self.poller.cohort_for(self.interval)
        future = self.cohort.wait(self.video_id)
        loop = asyncio.get_running_loop()
        # A timer handle, not asyncio.wait_for: no extra task per poll for each of thousands of triggers.
        timer = loop.call_at(loop.time() + max(0.0, deadline - time.time()), _expire, future)
        try:
            return await future
        finally:
            timer.cancel()
            self.cohort.forget(self.video_id, future)

    async def _alone(self, after: float, deadline: float) -> VideoStatusResponse:
        remaining = deadline - time.time()
        if after >= remaining:
            await asyncio.sleep(max(0.0, remaining))
            raise DeadlineReached
        await asyncio.sleep(after)
        return await self.poller.hook.aget_video_status(self.video_id)

    def leave(self) -> None:
        if self.cohort is not None:
            self.poller.leave(self.cohort)
            self.cohort = None


@contextlib.asynccontextmanager
async def status_subscription(conn_id: str, video_id: str, interval: float) -> AsyncIterator[Subscription]:
    """
    A place for ``video_id`` in the running loop's poller for ``conn_id``, while a trigger waits.

    The last trigger to leave stops the poller, so a loop that ends leaves no task behind.
    """
    loop = asyncio.get_running_loop()
    pollers = _pollers.setdefault(loop, {})
    poller = pollers.get(conn_id)
    if poller is None:
        poller = pollers[conn_id] = StatusPoller(conn_id)
    poller.users += 1
    subscription = Subscription(poller, video_id, interval)
    try:
        yield subscription
    finally:
        subscription.leave()
        poller.users -= 1
        if poller.users == 0:
            poller.close()
            if pollers.get(conn_id) is poller:
                del pollers[conn_id]


def _expire(future: asyncio.Future[VideoStatusResponse]) -> None:
    if not future.done():
        future.set_exception(DeadlineReached())


def _settle(futures: list[asyncio.Future[VideoStatusResponse]], outcome: VideoStatusResponse | BaseException) -> None:
    for future in futures:
        if future.done():  # cancelled, or its deadline came
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


def _settle_all(waiting: dict[str, list[asyncio.Future[VideoStatusResponse]]], error: BaseException) -> None:
    for futures in waiting.values():
        _settle(futures, error)
