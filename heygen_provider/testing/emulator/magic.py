"""Magic values: scenario markers a DAG can put in a video's ``title`` or ``callback_id``.

A marker is ``emulator:<name>`` or ``emulator:<name>=<value>``; several may be combined, separated by
spaces. They let DAG authors trigger a scenario without touching the emulator, for example
``title="Quarterly update emulator:fail"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from heygen_provider.testing.emulator.faults import FAULT_NAMES, RENDER_OUTCOMES

MARKER = re.compile(r"emulator:([A-Za-z_-]+)(?:=([^\s,;]+))?")
#: Friendly names for the render outcomes.
RENDER_ALIASES = {
    "fail": "render_failed",
    "fail_too_long": "render_failed",
    "fail_credit": "render_failed_credit",
    "fail_internal": "render_failed_internal",
    "fail_no_reason": "render_failed_no_reason",
    "completed_with_error": "render_completed_with_error",
    "unknown_status": "render_unknown_status",
    "stuck": "render_stuck",
}
SIZE_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
SIZE = re.compile(r"^(\d+)([KMG]?B?)$", re.IGNORECASE)


@dataclass
class MagicScenario:
    """The scenario the markers of one request ask for.

    :param render_outcome: a key of :data:`~heygen_provider.testing.emulator.faults.RENDER_OUTCOMES`.
    :param create_fault: a fault answered to the creation request itself (every time it is sent).
    :param poll_fault: a fault answered to the first status polls of the video.
    :param poll_fault_count: how many status polls get ``poll_fault``.
    :param size_bytes: the size of the video's MP4.
    :param render_seconds: this video's render time, instead of the emulator's.
    """

    render_outcome: str | None = None
    create_fault: str | None = None
    poll_fault: str | None = None
    poll_fault_count: int = 0
    size_bytes: int | None = None
    render_seconds: float | None = None


def parse_size(text: str) -> int:
    """Bytes from ``1048576``, ``512KB``, ``200MB`` or ``2GB`` (units are powers of 1024).

    :param text: the size.
    :raises ValueError: when it is not a size.
    """
    match = SIZE.match(text.strip())
    if match is None:
        raise ValueError(f"not a size: {text!r} (use e.g. 200MB)")
    unit = match.group(2).upper()
    if unit and not unit.endswith("B"):
        unit += "B"
    return int(match.group(1)) * SIZE_UNITS[unit]


def _fault_and_count(value: str) -> tuple[str, int]:
    name, _, count = value.partition("*")
    name = name.replace("-", "_")
    if name not in FAULT_NAMES or name in RENDER_OUTCOMES:
        raise ValueError(f"unknown fault {name!r} in emulator:poll")
    return name, int(count) if count else 1


def parse_magic(text: str) -> MagicScenario:
    """Read the markers in ``text``.

    Recognised markers: ``emulator:<render outcome or alias>`` (``fail``, ``fail-credit``,
    ``completed-with-error``, ``unknown-status``, ``stuck``, or a ``render_*`` name),
    ``emulator:<fault>`` (answer the creation request with that fault, e.g. ``rate_limited``),
    ``emulator:poll=<fault>[*N]``, ``emulator:size=<size>`` and ``emulator:render-seconds=<seconds>``.

    :param text: the request's title and callback id.
    :raises ValueError: on an unknown marker, so that typos do not silently do nothing.
    """
    scenario = MagicScenario()
    if "emulator:" not in text:
        return scenario
    for match in MARKER.finditer(text):
        name = match.group(1).lower().replace("-", "_")
        value = match.group(2)
        if name == "poll" and value:
            scenario.poll_fault, scenario.poll_fault_count = _fault_and_count(value)
        elif name == "size" and value:
            scenario.size_bytes = parse_size(value)
        elif name == "render_seconds" and value:
            scenario.render_seconds = max(0.0, float(value))
        elif RENDER_ALIASES.get(name, name) in RENDER_OUTCOMES and not value:
            scenario.render_outcome = RENDER_ALIASES.get(name, name)
        elif name in FAULT_NAMES and not value:
            scenario.create_fault = name
        else:
            raise ValueError(f"unknown emulator marker {match.group(0)!r}")
    return scenario
