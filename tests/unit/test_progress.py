"""The waiting log: a line on every status change, else at most one a minute, never one per poll."""

from __future__ import annotations

import calendar

import pytest

from heygen_provider.progress import RenderProgress

START = float(calendar.timegm((2026, 11, 24, 9, 0, 0)))
DEADLINE = START + 3600


def _progress(**overrides: float | None) -> RenderProgress:
    values: dict[str, float | None] = {"poll_interval": 30.0, "deadline": DEADLINE, "started": START}
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
