"""Fixtures of the emulator's own tests: the opt-in plugin's fixtures plus HTTP clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from heygen_provider.testing.emulator import HeyGenEmulator

# The opt-in plugin's fixtures (heygen_emulator, heygen_connection) come from the root conftest, which
# registers the plugin: the emulator's own tests use exactly the fixtures users get.


@pytest.fixture
def api(heygen_emulator: HeyGenEmulator) -> Iterator[httpx.Client]:
    """An HTTP client carrying the emulator's API key."""
    with httpx.Client(
        base_url=heygen_emulator.base_url,
        headers={"X-Api-Key": heygen_emulator.api_key},
        trust_env=False,
        timeout=10,
    ) as client:
        yield client


@pytest.fixture
def anonymous(heygen_emulator: HeyGenEmulator) -> Iterator[httpx.Client]:
    """An HTTP client without credentials (media downloads, auth failures)."""
    with httpx.Client(base_url=heygen_emulator.base_url, trust_env=False, timeout=10) as client:
        yield client
