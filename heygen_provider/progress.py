"""
When a waiting render gets a log line, and what the line says.

A person following a render wants a line when its status changes and, between changes, a sign of life
at most once a minute (status, time waited, next check, deadline). A line per poll would be noise, and
at thousands of triggers it costs more CPU than the poll itself (``bench/``), so the decision is a few
comparisons and a line is formatted only when it is logged.
"""

from __future__ import annotations

import math
import time

#: Seconds between progress lines while the status does not change.
DEFAULT_PROGRESS_EVERY = 60.0


class RenderProgress:
    """
    Decides, after each status check of one video, whether to log, and formats the line.

    :param video_id: the HeyGen video id.
    :param poll_interval: seconds until the next status check, for the line.
    :param deadline: UNIX time at which waiting stops, if any (``None`` or infinity: none), for the line.
    :param started: UNIX time at which waiting started (default: now).
    :param every: seconds between progress lines while the status stays the same.
    """

    def __init__(
        self,
        video_id: str,
        *,
        poll_interval: float,
        deadline: float | None = None,
        started: float | None = None,
        every: float = DEFAULT_PROGRESS_EVERY,
    ) -> None:
        self.video_id = video_id
        self.poll_interval = poll_interval
        # The trigger's "no deadline" is infinity.
        self.deadline = deadline if deadline is not None and math.isfinite(deadline) else None
        self.started = time.time() if started is None else started
        self.every = every
        self._status: str | None = None
        self._logged_at = float("-inf")

    def line(self, status: str, now: float) -> str | None:
        """
        The line to log for a status check answered ``status`` at ``now`` (UNIX time), or ``None``.

        :param status: HeyGen's status word (``pending``, ``processing``, ...).
        :param now: when the answer came.
        """
        if self.is_quiet(status, now):
            return None
        changed = status != self._status
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
        :meth:`line` would give no line: ``status`` is the last one logged and the last line is recent.

        :param status: HeyGen's status word.
        :param now: when the answer came (UNIX time).
        """
        return status == self._status and now - self._logged_at < self.every

    def _deadline_text(self, now: float) -> str:
        if self.deadline is None:
            return ", no deadline"
        moment = time.strftime("%H:%M:%S UTC", time.gmtime(self.deadline))
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
