"""
Fixtures of the reliability suite: the integration harness (real ``dag.test()`` against the emulator on
127.0.0.1), a connection with a short request timeout, and a recorder of the exceptions the generate
operator raised inside a DAG run. Prints the fault matrix at the end of the session. Fast back-off and
recorded sleeps come from tests/fixtures, as in every suite.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from heygen_provider.testing.emulator import HeyGenEmulator
from tests.fixtures.scenes import emulator_scene
from tests.integration import conftest as integration
from tests.reliability import matrix

# The integration harness, shared rather than copied: session DB, emulator, DagBag and dag.test().
airflow_db = integration.airflow_db
emulator_session = integration.emulator_session
emulator = integration.emulator
dagbag = integration.dagbag
param_defaults = integration.param_defaults
run_dag = integration.run_dag
legacy = integration.legacy

#: One valid scene, for requests made directly.
SCENE = emulator_scene("Fault matrix.")


@pytest.fixture
def connect(emulator: HeyGenEmulator, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """
    Point ``heygen_default`` at the emulator with the given extras (default: the short request timeout),
    on the legacy API generation: the fault matrix records what the create call without an idempotency
    key does (v3's keyed creates are tested in tests/integration/test_no_second_render.py).
    """

    def define(**extra: Any) -> None:
        extras = {"request_timeout": matrix.REQUEST_TIMEOUT, "create_timeout": matrix.REQUEST_TIMEOUT, **extra}
        for name, value in emulator.airflow_connection(api_version="legacy", extra=extras).env().items():
            monkeypatch.setenv(name, value)

    define()
    return define


@dataclasses.dataclass
class TaskErrors:
    """Exceptions the generate operator raised in ``execute`` or ``execute_complete`` (deferrals excluded)."""

    errors: list[BaseException] = dataclasses.field(default_factory=list)
    results: list[Any] = dataclasses.field(default_factory=list)

    @property
    def last(self) -> BaseException:
        assert self.errors, "the generate task raised nothing"
        return self.errors[-1]


@pytest.fixture
def task_errors(monkeypatch: pytest.MonkeyPatch) -> Iterator[TaskErrors]:
    try:
        from airflow.sdk.exceptions import TaskDeferred
    except ImportError:  # Airflow 3.1
        from airflow.exceptions import TaskDeferred  # type: ignore[no-redef,attr-defined,unused-ignore]
    from heygen_provider.operators.heygen import HeyGenGenerateVideoOperator

    seen = TaskErrors()

    def recording(method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                result = method(*args, **kwargs)
            except TaskDeferred:
                raise
            except BaseException as error:
                seen.errors.append(error)
                raise
            seen.results.append(result)
            return result

        return wrapper

    for name in ("execute", "execute_complete"):
        monkeypatch.setattr(HeyGenGenerateVideoOperator, name, recording(getattr(HeyGenGenerateVideoOperator, name)))
    yield seen


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if matrix.RESULTS:
        terminalreporter.section("HeyGen fault matrix (observed in this run)")
        terminalreporter.write_line(matrix.render_text())
