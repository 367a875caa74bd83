"""
A poll interval that is zero, negative, NaN or infinite is refused when the task or trigger is built, with
a ``ValueError`` naming the parameter: zero (or NaN, which compares false with everything) would poll
HeyGen in a busy loop, burning its rate limit; infinity would never poll again.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pytest

from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator
from heygen_provider.sensors.heygen import HeyGenVideoSensor
from heygen_provider.triggers.heygen import HeyGenVideoStatusTrigger
from tests.reliability.conftest import SCENE

BAD_SECONDS = [0, 0.0, -1, -0.001, math.nan, math.inf, -math.inf]


def generate(**kwargs: Any) -> Any:
    return HeyGenGenerateVideoOperator(task_id="generate", video_inputs=[SCENE], **kwargs)


def sensor(**kwargs: Any) -> Any:
    return HeyGenVideoSensor(task_id="wait", video_id="v1", **kwargs)


def trigger(**kwargs: Any) -> Any:
    return HeyGenVideoStatusTrigger("v1", **kwargs)


BUILDERS = {
    "operator-poll_interval": (generate, "poll_interval"),
    "operator-timeout": (generate, "timeout"),
    "sensor-poke_interval": (sensor, "poke_interval"),
    "trigger-poll_interval": (trigger, "poll_interval"),
}


@pytest.mark.parametrize("value", BAD_SECONDS, ids=repr)
@pytest.mark.parametrize("builder", list(BUILDERS))
def test_a_poll_interval_that_would_busy_poll_is_refused(builder: str, value: float) -> None:
    build, parameter = BUILDERS[builder]
    with pytest.raises(ValueError, match=rf"^{parameter} must be a positive, finite number of seconds \(got "):
        build(**{parameter: value})


@pytest.mark.parametrize("value", [timedelta(0), timedelta(seconds=-5)], ids=str)
def test_a_non_positive_timedelta_poke_interval_is_refused(value: timedelta) -> None:
    with pytest.raises(ValueError, match=r"^poke_interval must be a positive"):
        sensor(poke_interval=value)


@pytest.mark.parametrize("builder", list(BUILDERS))
def test_positive_intervals_are_kept_as_seconds(builder: str) -> None:
    build, parameter = BUILDERS[builder]
    built = build(**{parameter: 0.25})
    assert getattr(built, parameter) == 0.25


def test_a_timedelta_poke_interval_is_kept_as_seconds() -> None:
    assert sensor(poke_interval=timedelta(seconds=90)).poke_interval == 90.0
