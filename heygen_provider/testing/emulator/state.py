"""Videos and their render schedule.

Nothing runs in the background: when a job is created it is given its timetable (when it stops
being ``pending``, when a render slot frees up for it, when it finishes), and every status read
compares the clock with that timetable. A render slot is modelled as the time it becomes free, so
the per-plan concurrency limit costs one heap operation per creation and nothing per poll. A job
holds its slot from its creation until its timetable ends it (a legacy job may wait for the slot
first); v3 refuses a create when no slot is free (:meth:`VideoStore.slot_free`).
"""

from __future__ import annotations

import heapq
import itertools
import time
import uuid
from dataclasses import dataclass
from typing import Any

from heygen_provider.testing.emulator.faults import CREDIT_ERROR, RenderOutcome
from heygen_provider.testing.emulator.validation import RenderRequest


class Clock:
    """Wall-clock time that tests can move forward instead of sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        """Seconds since the epoch, plus every :meth:`advance` so far."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move time forward: renders progress and signed URLs age.

        :param seconds: how far; must not be negative.
        """
        if seconds < 0:
            raise ValueError("time only moves forward")
        self.offset += seconds


@dataclass(slots=True)
class VideoJob:
    """One video and its timetable.

    :param video_id: HeyGen-style id (32 hex characters).
    :param created_at: when it was created.
    :param queued_at: when it stops being ``pending`` and waits for a render slot.
    :param started_at: when its render starts (``processing``).
    :param finished_at: when its render ends.
    :param request: what was asked for.
    :param outcome: how the render ends.
    :param size_bytes: the size of its MP4 when padded for download tests, else ``None``.
    :param poll_fault: a fault answered to its next status polls.
    :param poll_faults_left: how many polls still get ``poll_fault``.
    :param sequence: its place in creation order (listings page by it).
    """

    video_id: str
    created_at: float
    queued_at: float
    started_at: float
    finished_at: float
    request: RenderRequest
    outcome: RenderOutcome
    size_bytes: int | None = None
    poll_fault: str | None = None
    poll_faults_left: int = 0
    sequence: int = 0

    def status_at(self, now: float) -> str:
        """The HeyGen status at a time: pending, waiting, processing, completed or failed.

        :param now: the time.
        """
        if now < self.queued_at:
            return "pending"
        if now < self.started_at:
            return "waiting"
        if self.outcome.endless_status is not None:
            return self.outcome.endless_status
        if now < self.finished_at:
            return "processing"
        return self.outcome.final_status

    def summary(self, now: float) -> dict[str, Any]:
        """JSON form for the admin API.

        :param now: the time.
        """
        return {
            "video_id": self.video_id,
            "status": self.status_at(now),
            "title": self.request.title,
            "callback_id": self.request.callback_id,
            "created_at": self.created_at,
            "queued_at": self.queued_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration": self.request.duration_seconds,
            "size_bytes": self.size_bytes,
        }


class VideoStore:
    """Every video created since the last reset, with the render slots of the plan."""

    def __init__(self, concurrent_renders: int, remaining_quota: float) -> None:
        self.jobs: dict[str, VideoJob] = {}
        self.remaining_quota = remaining_quota
        self.slot_free_at: list[float] = [0.0] * concurrent_renders
        self._sequence = itertools.count(1)

    def set_concurrency(self, concurrent_renders: int) -> None:
        """Change the number of render slots; jobs already scheduled keep their timetable.

        :param concurrent_renders: the new number of slots.
        """
        latest_finishes = sorted((job.finished_at for job in self.jobs.values()), reverse=True)
        slots = latest_finishes[:concurrent_renders]
        slots += [0.0] * (concurrent_renders - len(slots))
        heapq.heapify(slots)
        self.slot_free_at = slots

    def slot_free(self, now: float) -> bool:
        """Whether a render slot is free at ``now``: fewer jobs than the plan's concurrency are unfinished.

        :param now: the time.
        """
        return self.slot_free_at[0] <= now

    def create(
        self,
        request: RenderRequest,
        outcome: RenderOutcome,
        *,
        now: float,
        pending_seconds: float,
        render_seconds: float,
        size_bytes: int | None = None,
    ) -> VideoJob:
        """Register a new video and schedule its render in the first free slot.

        The quota is charged here but, as on HeyGen, a shortfall only shows when polling.

        :param request: the validated request.
        :param outcome: how the render ends, unless the quota runs out.
        :param now: the creation time.
        :param pending_seconds: time spent ``pending`` before asking for a slot.
        :param render_seconds: time spent ``processing``.
        :param size_bytes: the MP4 size for download tests, else ``None``.
        """
        if not request.test:
            if request.duration_seconds > self.remaining_quota:
                outcome = RenderOutcome("failed", CREDIT_ERROR)
            else:
                self.remaining_quota -= request.duration_seconds
        queued_at = now + pending_seconds
        started_at = max(queued_at, heapq.heappop(self.slot_free_at))
        finished_at = started_at + render_seconds
        heapq.heappush(self.slot_free_at, finished_at)
        job = VideoJob(
            video_id=uuid.uuid4().hex,
            created_at=now,
            queued_at=queued_at,
            started_at=started_at,
            finished_at=finished_at,
            request=request,
            outcome=outcome,
            size_bytes=size_bytes,
            sequence=next(self._sequence),
        )
        self.jobs[job.video_id] = job
        return job

    def delete(self, video_id: str) -> None:
        """Forget a video (``DELETE /v3/videos/{id}``): its status and media are gone; its render slot is not freed.

        :param video_id: the video.
        """
        self.jobs.pop(video_id, None)
