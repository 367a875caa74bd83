"""Opt-in pytest plugin: a running HeyGen emulator and a matching Airflow connection.

Enable it in a ``conftest.py``::

    pytest_plugins = ["heygen_provider.testing.pytest_plugin"]

Fixtures:

- ``heygen_emulator``: the emulator, reset before each test (no videos, requests, faults, clock
  offset or setting changes carry over). One emulator serves the whole session, in a background
  thread, because starting one per test would cost more than the tests themselves.
- ``heygen_connection``: sets ``AIRFLOW_CONN_HEYGEN_DEFAULT`` for the test so that Airflow's
  ``heygen_default`` connection points at the emulator; returns the
  :class:`~heygen_provider.testing.emulator.AirflowConnection`.
- ``heygen_emulator_settings``: session-scoped :class:`~heygen_provider.testing.emulator.EmulatorSettings`
  (renders complete on the first poll); override it in your ``conftest.py`` to change the start-up
  settings, or call ``heygen_emulator.update_settings(...)`` inside one test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from heygen_provider.testing.emulator import AirflowConnection, EmulatorSettings, HeyGenEmulator


@pytest.fixture(scope="session")
def heygen_emulator_settings() -> EmulatorSettings:
    """Start-up settings of the session's emulator; override to change them."""
    return EmulatorSettings()


@pytest.fixture(scope="session")
def heygen_emulator_session(heygen_emulator_settings: EmulatorSettings) -> Iterator[HeyGenEmulator]:
    """The emulator shared by the session, without the per-test reset; prefer ``heygen_emulator``."""
    with HeyGenEmulator(heygen_emulator_settings) as emulator:
        yield emulator


@pytest.fixture
def heygen_emulator(heygen_emulator_session: HeyGenEmulator) -> HeyGenEmulator:
    """A running HeyGen emulator in its start-up state."""
    heygen_emulator_session.reset()
    return heygen_emulator_session


@pytest.fixture
def heygen_connection(heygen_emulator: HeyGenEmulator, monkeypatch: pytest.MonkeyPatch) -> AirflowConnection:
    """``heygen_default`` pointing at the emulator, through ``AIRFLOW_CONN_HEYGEN_DEFAULT``."""
    connection = heygen_emulator.airflow_connection()
    for name, value in connection.env().items():
        monkeypatch.setenv(name, value)
    return connection
