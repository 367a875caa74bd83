"""Pure functions: magic markers, sizes, settings round trips, captions, fault rules."""

from __future__ import annotations

import pytest

from heygen_provider.testing.emulator import EmulatorSettings
from heygen_provider.testing.emulator.faults import FaultBook
from heygen_provider.testing.emulator.magic import parse_magic, parse_size
from heygen_provider.testing.emulator.media import captions


@pytest.mark.parametrize(
    ("text", "size"),
    [("1048576", 1048576), ("512KB", 512 * 1024), ("200MB", 200 * 1024**2), ("2gb", 2 * 1024**3), ("3M", 3 * 1024**2)],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_parse_size_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size("big")


def test_markers_combine() -> None:
    scenario = parse_magic(
        "Q3 emulator:fail-credit emulator:size=10MB emulator:poll=drop*3 emulator:render-seconds=2.5"
    )
    assert scenario.render_outcome == "render_failed_credit"
    assert scenario.size_bytes == 10 * 1024**2
    assert (scenario.poll_fault, scenario.poll_fault_count) == ("drop", 3)
    assert scenario.render_seconds == 2.5
    assert scenario.create_fault is None


def test_text_without_markers_is_a_plain_scenario() -> None:
    assert parse_magic("Quarterly update: emulators are fun") == parse_magic("")


@pytest.mark.parametrize("text", ["emulator:poll=render_failed", "emulator:poll=meteor", "emulator:nope"])
def test_bad_markers_are_errors(text: str) -> None:
    with pytest.raises(ValueError, match="unknown"):
        parse_magic(text)


def test_settings_round_trip_and_validation() -> None:
    settings = EmulatorSettings(api_keys=("a", "b"), plan="free", render_seconds=3)
    assert EmulatorSettings.from_dict(settings.to_dict()) == settings
    assert settings.updated({"plan": "scale"}).limits.concurrent_renders == 6
    with pytest.raises(ValueError, match="unknown plan"):
        EmulatorSettings(plan="gold")
    with pytest.raises(ValueError, match="unknown emulator settings"):
        EmulatorSettings.from_dict({"colour": "red"})
    assert EmulatorSettings.realistic().render_seconds >= 300


def test_captions_spread_over_the_duration() -> None:
    srt = captions("one two three four five six seven eight nine ten", 10.0, "srt").decode()
    assert srt.splitlines()[:3] == ["1", "00:00:00,000 --> 00:00:08,298", "one two three four five six seven eight"]
    assert "00:00:08,298 --> 00:00:10,000\nnine ten" in srt
    assert captions("", 3.0, "vtt") == b"WEBVTT\n\n"


def test_fault_rules_path_prefix_and_exhaustion() -> None:
    book = FaultBook()
    book.add("drop", path="/v1/*", count=2)
    assert book.take("GET", "/v2/voices") is None
    assert book.take("GET", "/v1/video_status.get") is not None
    assert book.take("POST", "/v1/anything") is not None
    assert book.take("GET", "/v1/video_status.get") is None
    assert book.rules == []
