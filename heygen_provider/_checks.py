"""Checks of task and trigger parameters shared by the operator, the sensor and the trigger."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any


def positive_seconds(name: str, value: Any) -> float:
    """
    ``value`` (seconds or a ``timedelta``) as a positive, finite number of seconds.

    Zero or NaN would poll HeyGen in a busy loop; infinity would never poll again.

    :param name: the parameter, named in the error.
    :raises ValueError: naming ``name`` and the value given.
    """
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds < math.inf:
        raise ValueError(f"{name} must be a positive, finite number of seconds (got {value!r})")
    return float(seconds)
