"""A local HeyGen API emulator for tests, demos and offline DAG development.

It speaks HeyGen's wire format on its own, without the provider's models, so that it catches the
hook sending what the real service would refuse. Start it from Python with :class:`HeyGenEmulator`,
from the command line with ``heygen-emulator``, or in pytest with the
``heygen_provider.testing.pytest_plugin`` fixtures. See ``docs/testing-offline.rst``.
"""

from __future__ import annotations

from heygen_provider.testing.emulator.client import EmulatorAdminError, EmulatorClient
from heygen_provider.testing.emulator.connection import AirflowConnection, airflow_connection
from heygen_provider.testing.emulator.faults import FAULT_NAMES, UNKNOWN_STATUS_VALUE
from heygen_provider.testing.emulator.requestlog import LoggedRequest, fingerprint
from heygen_provider.testing.emulator.runner import EmulatorStartError, HeyGenEmulator
from heygen_provider.testing.emulator.settings import DEFAULT_API_KEY, PLANS, EmulatorSettings

__all__ = [
    "DEFAULT_API_KEY",
    "FAULT_NAMES",
    "PLANS",
    "UNKNOWN_STATUS_VALUE",
    "AirflowConnection",
    "EmulatorAdminError",
    "EmulatorClient",
    "EmulatorSettings",
    "EmulatorStartError",
    "HeyGenEmulator",
    "LoggedRequest",
    "airflow_connection",
    "fingerprint",
]
