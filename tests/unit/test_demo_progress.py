"""``make demo``'s progress lines: one when the renders or the stored files change, none before either."""

from __future__ import annotations

import pytest

from example_dags._demo import progress_line


@pytest.mark.parametrize(
    ("renders", "stored", "line"),
    [
        ({}, 0, None),
        ({"pending": 4}, 0, "renders: 4 pending"),
        ({"processing": 2, "completed": 2}, 0, "renders: 2 completed, 2 processing"),
        ({"completed": 4}, 3, "renders: 4 completed; videos stored: 3"),
        ({}, 2, "videos stored: 2"),
    ],
    ids=["nothing-yet", "submitted", "rendering", "storing", "real-service-stored"],
)
def test_progress_line(renders: dict[str, int], stored: int, line: str | None) -> None:
    assert progress_line(renders, stored) == line
