"""
When a waiting render gets a log line, and what the line says.

A person following a render wants a line when its status changes and, between changes, a sign of life
at most once a minute (status, time waited, next check, deadline). A line per poll would be noise, and
at thousands of triggers it costs more CPU than the poll itself, so the decision is a few comparisons
and a line is formatted only when it is logged.

The signs of life of every wait on one event loop (a triggerer runs one) share
:data:`PROGRESS_LINES_PER_SECOND`, through the budget of the loop's
:class:`~heygen_provider.triggers.loop_state.TriggererLoopState`. Airflow's triggerer supervisor reads
at most 4 KiB of trigger logs per turn of its loop, and each turn queries every trigger it runs: at
10,000 triggers it cannot keep up with a line a minute per trigger, and the runner's event loop then
stalls on the full log pipe (measured in ``docs/benchmarks.rst``). So a thousand waits get their line
every minute; ten thousand get one about every eight minutes. Status changes are always logged.
"""

from __future__ import annotations

import math
import time

#: Seconds between progress lines while the status does not change.
DEFAULT_PROGRESS_EVERY = 60.0
#: Progress lines (not status changes) a second for all the waits of one process; see the module's notes.
PROGRESS_LINES_PER_SECOND = 20.0


class LineBudget:
    """
    A token bucket: at most ``rate`` lines a second on average, ``burst`` at once.

    :param rate: lines a second.
    :param burst: lines that may go at once after a quiet spell (default: one second's worth).
    """

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._tokens = self.burst
        self._at = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def available(self) -> bool:
        """A line may be logged now (nothing is taken)."""
        self._refill()
        return self._tokens >= 1.0

    def take(self) -> bool:
        """Take one line's worth; ``False`` when there is none left."""
        self._refill()
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


#: The budget of a :class:`RenderProgress` given none: waits outside a trigger. A trigger passes its loop's.
SHARED_BUDGET = LineBudget(PROGRESS_LINES_PER_SECOND)


class RenderProgress:
    """
    Decides, after each status check of one video, whether to log, and formats the line.

    :param video_id: the HeyGen video id.
    :param poll_interval: seconds until the next status check, for the line.
    :param deadline: UNIX time at which waiting stops, if any (``None`` or infinity: none), for the line.
    :param started: UNIX time at which waiting started (default: now).
    :param every: seconds between progress lines while the status stays the same.
    :param budget: the progress lines this wait shares with the others of the process (status changes
        are not counted); default :data:`SHARED_BUDGET`.
    """

    def __init__(
        self,
        video_id: str,
        *,
        poll_interval: float,
        deadline: float | None = None,
        started: float | None = None,
        every: float = DEFAULT_PROGRESS_EVERY,
        budget: LineBudget | None = None,
    ) -> None:
        self.video_id = video_id
        self.poll_interval = poll_interval
        # The trigger's "no deadline" is infinity.
        self.deadline = deadline if deadline is not None and math.isfinite(deadline) else None
        self.started = time.time() if started is None else started
        self.every = every
        self.budget = budget if budget is not None else SHARED_BUDGET
        self._status: str | None = None
        self._logged_at = float("-inf")

    def line(self, status: str, now: float) -> str | None:
        """
        The line to log for a status check answered ``status`` at ``now`` (UNIX time), or ``None``.

        :param status: HeyGen's status word (``pending``, ``processing``, ...).
        :param now: when the answer came.
        """
        changed = status != self._status
        if not changed and (now - self._logged_at < self.every or not self.budget.take()):
            return None
        previous, self._status, self._logged_at = self._status, status, now
        waited = f"waited {_duration(now - self.started)}"
        if changed:
            was = f" (was {previous})" if previous is not None else ""
            return f"HeyGen video {self.video_id} is {status}{was}; {waited}"
        return (
            f"HeyGen video {self.video_id} still {status}; {waited}, next check in {_duration(self.poll_interval)}"
            + (self._deadline_text(now))
        )

    def is_quiet(self, status: str, now: float) -> bool:
        """
        :meth:`line` would give no line: ``status`` is the last one logged, and the last line is recent or
        the process's progress budget is spent. Nothing is taken from the budget.

        :param status: HeyGen's status word.
        :param now: when the answer came (UNIX time).
        """
        return status == self._status and (now - self._logged_at < self.every or not self.budget.available())

    def _deadline_text(self, now: float) -> str:
        if self.deadline is None:
            return ", no deadline"
        deadline = time.gmtime(self.deadline)
        # A wait may outlast the day (the default timeout is 1 h): then the time alone would mislead.
        same_day = deadline[:3] == time.gmtime(now)[:3]
        moment = time.strftime("%H:%M:%S UTC" if same_day else "%Y-%m-%d %H:%M:%S UTC", deadline)
        return f", gives up at {moment} (in {_duration(max(0.0, self.deadline - now))})"


def _duration(seconds: float) -> str:
    """``45 s``, ``3 min 05 s``, ``1 h 02 min``."""
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.0f} s" if seconds >= 1 or seconds == 0 else f"{seconds:.1f} s"
    minutes, second = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {second:02d} s"
    hours, minute = divmod(minutes, 60)
    return f"{hours} h {minute:02d} min"
