"""The waiting log: a line on every status change, else at most one a minute, never one per poll."""

from __future__ import annotations

import calendar
from typing import Any

import pytest

from heygen_provider.progress import LineBudget, RenderProgress

START = float(calendar.timegm((2026, 11, 24, 9, 0, 0)))
DEADLINE = START + 3600


def _progress(**overrides: Any) -> RenderProgress:
    values: dict[str, Any] = {"poll_interval": 30.0, "deadline": DEADLINE, "started": START}
    values.update(overrides)
    return RenderProgress("v1", **values)  # type: ignore[arg-type]


def test_the_first_answer_and_every_change_are_logged_with_the_previous_status() -> None:
    progress = _progress()

    assert progress.line("pending", START + 5) == "HeyGen video v1 is pending; waited 5 s"
    assert progress.line("processing", START + 10) == "HeyGen video v1 is processing (was pending); waited 10 s"
    assert progress.line("completed", START + 12) == "HeyGen video v1 is completed (was processing); waited 12 s"


def test_an_unchanged_status_is_logged_at_most_once_a_minute_with_next_check_and_deadline() -> None:
    progress = _progress(poll_interval=5.0)
    progress.line("processing", START)

    quiet = [progress.line("processing", START + seconds) for seconds in range(5, 60, 5)]
    assert quiet == [None] * len(quiet)
    assert progress.line("processing", START + 60) == (
        "HeyGen video v1 still processing; waited 1 min 00 s, next check in 5 s, gives up at 10:00:00 UTC "
        "(in 59 min 00 s)"
    )
    assert progress.line("processing", START + 65) is None
    assert progress.line("processing", START + 120) is not None


def test_a_change_restarts_the_minute() -> None:
    progress = _progress()
    progress.line("pending", START)
    progress.line("processing", START + 50)

    assert progress.line("processing", START + 70) is None
    assert progress.line("processing", START + 110) is not None


def test_polls_every_second_for_ten_minutes_log_ten_lines() -> None:
    progress = _progress(poll_interval=1.0)
    lines = [progress.line("processing", START + second) for second in range(600)]

    assert sum(line is not None for line in lines) == 10


@pytest.mark.parametrize("deadline", [None, float("inf")])
def test_without_a_deadline_the_line_says_so(deadline: float | None) -> None:
    progress = _progress(deadline=deadline)
    progress.line("processing", START)

    assert str(progress.line("processing", START + 3700)).endswith("waited 1 h 01 min, next check in 30 s, no deadline")


def test_a_passed_deadline_reads_as_in_zero_seconds() -> None:
    progress = _progress(deadline=START + 30)
    progress.line("processing", START)

    assert str(progress.line("processing", START + 90)).endswith("gives up at 09:00:30 UTC (in 0 s)")


def test_a_deadline_on_another_day_gives_its_date() -> None:
    # The default timeout is 24 h: a wait started at 09:00 gives up the next day at 09:00.
    progress = _progress(deadline=START + 24 * 3600)
    progress.line("processing", START)

    line = str(progress.line("processing", START + 60))
    assert line.endswith("gives up at 2026-11-25 09:00:00 UTC (in 23 h 59 min)")


class TestSharedBudget:
    """Progress lines of every wait in a process share a budget; status changes are never held back."""

    def test_waits_due_together_share_the_budget(self) -> None:
        budget = LineBudget(rate=0.001, burst=2)
        waits = [_progress(budget=budget) for _ in range(5)]
        for progress in waits:
            progress.line("processing", START)

        due = [progress.line("processing", START + 60) for progress in waits]

        assert sum(line is not None for line in due) == 2
        # Those left out ask again at their next poll, not a minute later.
        assert [progress.is_quiet("processing", START + 65) for progress in waits] == [True] * 5

    def test_a_status_change_is_logged_with_the_budget_spent(self) -> None:
        budget = LineBudget(rate=0.001, burst=1)
        first, second = _progress(budget=budget), _progress(budget=budget)
        first.line("processing", START)
        second.line("processing", START)
        assert first.line("processing", START + 60) is not None

        assert second.line("processing", START + 60) is None
        changed = second.line("completed", START + 61)
        assert changed == "HeyGen video v1 is completed (was processing); waited 1 min 01 s"

    def test_asking_whether_a_wait_is_quiet_takes_nothing(self) -> None:
        budget = LineBudget(rate=0.001, burst=1)
        progress = _progress(budget=budget)
        progress.line("processing", START)

        assert [progress.is_quiet("processing", START + 60) for _ in range(10)] == [False] * 10
        assert progress.line("processing", START + 60) is not None
        assert progress.is_quiet("processing", START + 120)

    def test_the_budget_refills_at_its_rate(self, monkeypatch: pytest.MonkeyPatch) -> None:
        clock = [1000.0]
        monkeypatch.setattr("heygen_provider.progress.time.monotonic", lambda: clock[0])
        budget = LineBudget(rate=2.0, burst=2)

        assert [budget.take() for _ in range(3)] == [True, True, False]
        clock[0] += 0.5
        assert [budget.take() for _ in range(2)] == [True, False]
        clock[0] += 100
        assert [budget.take() for _ in range(3)] == [True, True, False]
