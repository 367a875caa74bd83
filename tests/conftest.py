"""Test-session set-up shared by every suite: an isolated AIRFLOW_HOME, set before Airflow is imported."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

# The helpers' asserts are rewritten wherever a test module imports them from (registered before any is imported).
pytest.register_assert_rewrite("tests.fixtures", "tests.integration.services")

# Registered here only (pytest honours pytest_plugins in the root conftest alone): the emulator fixtures
# users get (heygen_emulator, heygen_connection: we use our own plugin), the shared fixtures' one home,
# and the integration suite's real local services.
pytest_plugins = [
    "heygen_provider.testing.pytest_plugin",
    "tests.fixtures.connections",
    "tests.fixtures.timing",
    "tests.fixtures.loopback",
    "tests.fixtures.operators",
    "tests.integration.services",
]

REPOSITORY = Path(__file__).resolve().parents[1]
EXAMPLE_DAGS = REPOSITORY / "example_dags"
TEST_DAGS = Path(__file__).resolve().parent / "integration" / "dags"


def _dags_folder(home: Path) -> Path:
    """
    One dags folder holding the example DAGs and the test DAGs, as links.

    ``dag.test()`` only runs DAGs that were parsed from the configured dags folder, and the examples
    must stay free of test-only DAGs.
    """
    folder = home / "dags"
    folder.mkdir(parents=True, exist_ok=True)
    for source in (*EXAMPLE_DAGS.iterdir(), *(TEST_DAGS.iterdir() if TEST_DAGS.is_dir() else ())):
        if source.name.startswith(("_", ".")):
            continue
        link = folder / source.name
        if not link.exists():
            link.symlink_to(source)
    return folder


# Airflow reads its configuration at import time, so this must run before any test module imports it.
# A per-session home keeps the tests off ~/airflow and away from any real triggerer's database.
if "HEYGEN_TESTS_AIRFLOW_HOME" not in os.environ:
    os.environ["HEYGEN_TESTS_AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="heygen-provider-tests-")
    os.environ["AIRFLOW_HOME"] = os.environ["HEYGEN_TESTS_AIRFLOW_HOME"]
_HOME = Path(os.environ["HEYGEN_TESTS_AIRFLOW_HOME"])
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_dags_folder(_HOME))
# As in a deployment (the dag bundle is on sys.path): a DAG file imported by a test imports its neighbours.
if os.environ["AIRFLOW__CORE__DAGS_FOLDER"] not in sys.path:
    sys.path.append(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")


def pytest_configure(config: pytest.Config) -> None:
    """
    One in-process Execution API per test session, as Airflow 3.2 and newer keep it.

    ``dag.test()`` runs each task through Airflow's in-process Execution API. Airflow 3.1 builds that
    FastAPI app anew for every task (about 2.5 s of route generation here, most of a campaign test's time
    on the floor suite); later releases cache it with ``functools.lru_cache``. Caching it on 3.1 too
    changes what is built, not what runs: the same app serves every task, as on 3.3.
    """
    import functools

    from airflow.sdk.execution_time import supervisor

    if not hasattr(supervisor.in_process_api_server, "cache_info"):
        supervisor.in_process_api_server = functools.lru_cache(maxsize=1)(supervisor.in_process_api_server)


@pytest.fixture(autouse=True)
def _fresh_connection_settings() -> Iterator[None]:
    """Each test reads its own connections: the hook's settings cache is process-wide."""
    from heygen_provider.hooks.cache import forget_settings

    forget_settings()
    yield
    forget_settings()


@pytest.fixture
async def triggerer_loop_state() -> AsyncIterator[Any]:
    """
    The running loop's :class:`~heygen_provider.triggers.loop_state.TriggererLoopState`, held for the
    test: what the test opens on the loop outside a trigger's wait (the hook's async calls) is closed
    when the test ends, as a trigger's wait closes what it opened. Triggers need nothing: their wait
    holds the state and the last one to end closes it.
    """
    from heygen_provider.triggers.loop_state import TriggererLoopState

    async with TriggererLoopState.of_running_loop() as state:
        yield state
