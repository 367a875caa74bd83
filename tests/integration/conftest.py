"""Real Airflow (``dag.test()``) against the real emulator over loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from heygen_provider.testing.emulator import EmulatorSettings, HeyGenEmulator

# Test DAGs and example DAGs read these when they are parsed.
os.environ.setdefault("HEYGEN_POLL_INTERVAL", "0.2")
os.environ.setdefault("HEYGEN_TEST_RENDER_TIMEOUT", "20")

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A fresh metadata database for the session (about 3 s on SQLite)."""
    from airflow.utils.db import resetdb

    resetdb()


@pytest.fixture(scope="session")
def emulator_session() -> Iterator[HeyGenEmulator]:
    with HeyGenEmulator(EmulatorSettings(render_seconds=0.5)) as emulator:
        yield emulator


@pytest.fixture
def emulator(emulator_session: HeyGenEmulator, monkeypatch: pytest.MonkeyPatch) -> HeyGenEmulator:
    """The session's emulator, reset, with ``heygen_default`` pointing at it."""
    emulator_session.reset()
    emulator_session.update_settings(render_seconds=0.5)
    for name, value in emulator_session.airflow_connection().env().items():
        monkeypatch.setenv(name, value)
    return emulator_session


@pytest.fixture(scope="session")
def dagbag(airflow_db: None) -> Any:
    from heygen_provider.testing.dagbag import load_dag_bag

    return load_dag_bag(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])


@pytest.fixture(scope="session")
def param_defaults(dagbag: Any) -> dict[str, dict[str, Any]]:
    """Each DAG's param defaults, read before any run."""
    defaults: dict[str, dict[str, Any]] = {}
    for dag_id, dag in dagbag.dags.items():
        params = {name: dag.params.get_param(name) for name in dag.params}
        # None is a default too (has_value is False only for it and for no default at all).
        defaults[dag_id] = {
            name: param.value for name, param in params.items() if param.has_value or param.value is None
        }
    return defaults


@pytest.fixture
def run_dag(dagbag: Any, emulator: HeyGenEmulator, param_defaults: dict[str, dict[str, Any]]) -> Any:
    """Run a DAG with ``dag.test()`` and return its DAG run."""

    def run(dag_id: str, *, logical_date: datetime | None = None, **conf: Any) -> Any:
        dag = dagbag.get_dag(dag_id)
        assert dag is not None, dagbag.import_errors
        # dag.test() runs tasks in this process, where a run's conf is written into the DAG's own Param
        # objects: every run states every param, or it would inherit the previous run's values.
        run_conf = {**param_defaults.get(dag_id, {}), **conf} or None
        if logical_date is None:
            return dag.test(run_conf=run_conf)
        return dag.test(run_conf=run_conf, logical_date=logical_date)

    return run


def task_states(dag_run: Any) -> dict[tuple[str, int], str]:
    return {(ti.task_id, ti.map_index): str(ti.state) for ti in dag_run.get_task_instances()}


#: The create paths of the two API generations.
CREATE_PATHS = ("/v3/videos", "/v2/video/generate")


def xcom_value(dag_run: Any, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
    """What ``task_id`` pushed under ``key`` in ``dag_run``, read from the database as the API server would."""
    import json

    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        value = session.scalar(
            select(XComModel.value).where(
                XComModel.dag_id == dag_run.dag_id,
                XComModel.run_id == dag_run.run_id,
                XComModel.task_id == task_id,
                XComModel.map_index == map_index,
                XComModel.key == key,
            )
        )
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        # The worker stores an extra link's URL as it is, not as JSON.
        return value


def video_posts(emulator: HeyGenEmulator) -> list[Any]:
    """Every create request, whatever the connection's API generation."""
    return [post for path in CREATE_PATHS for post in emulator.requests(method="POST", path=path)]


@pytest.fixture
def legacy(emulator: HeyGenEmulator, monkeypatch: pytest.MonkeyPatch) -> HeyGenEmulator:
    """The emulator with ``heygen_default`` on the legacy API generation."""
    for name, value in emulator.airflow_connection(api_version="legacy").env().items():
        monkeypatch.setenv(name, value)
    return emulator


@pytest.fixture
def output_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "videos"
    monkeypatch.setenv("HEYGEN_OUTPUT_URI", folder.as_uri())
    return folder


def stored_run_folder(output: Path) -> Path:
    """The one run's folder below a campaign's local ``output_uri``: ``<day>/<run>``."""
    [day] = list(output.iterdir())
    [folder] = list(day.iterdir())
    return folder
