"""
Real ``dag.test()`` runs with Airflow task retries, counting the paid creates the emulator received:
an unusable 200 answer to the create and a failure after ``execute`` returned never pay twice.
"""

from __future__ import annotations

from typing import Any

import pytest

from heygen_provider.exceptions import HeyGenSubmitUncertainError
from heygen_provider.operators.submission_record import VARIABLE_PREFIX
from heygen_provider.testing.emulator import HeyGenEmulator
from tests.reliability.conftest import TaskErrors

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fast_backoff")]

LEGACY_CREATE = "/v2/video/generate"
V3_CREATE = "/v3/videos"


def generate_ti(dag_run: Any) -> Any:
    [ti] = [ti for ti in dag_run.get_task_instances() if ti.task_id == "generate"]
    return ti


def submission_variables(dag_id: str) -> list[str]:
    """Keys of the Variables that record submissions of ``dag_id`` (the record on Airflow 3.1 and 3.2)."""
    from airflow.models import Variable
    from airflow.utils.session import create_session

    with create_session() as session:
        keys = session.query(Variable.key).filter(Variable.key.startswith(f"{VARIABLE_PREFIX}{dag_id}.")).all()
    return [key for (key,) in keys]


def test_an_unusable_200_to_the_legacy_create_fails_once_without_airflow_retries(
    legacy: HeyGenEmulator, run_dag: Any, task_errors: TaskErrors
) -> None:
    """Reliability item 1: ``retries=2`` made three paid renders of one odd answer."""
    legacy.add_fault("numeric_video_id", method="POST", path=LEGACY_CREATE)

    dag_run = run_dag("rel_generate_with_retries", title="odd create answer")

    ti = generate_ti(dag_run)
    assert (str(dag_run.state), str(ti.state), ti.try_number) == ("failed", "failed", 1)
    assert isinstance(task_errors.last, HeyGenSubmitUncertainError), task_errors.last
    assert len(legacy.requests("POST", LEGACY_CREATE)) == 1
    assert len(legacy.videos()) == 1


def test_an_unusable_200_to_the_v3_create_is_mended_by_the_same_idempotency_key(
    emulator: HeyGenEmulator, run_dag: Any
) -> None:
    """On v3 the try fails and Airflow's retry sends the same key: HeyGen replays its answer, one video."""
    emulator.add_fault("numeric_video_id", method="POST", path=V3_CREATE)

    dag_run = run_dag("rel_generate_with_retries", title="odd v3 create answer")

    ti = generate_ti(dag_run)
    assert (str(dag_run.state), ti.try_number) == ("success", 2)
    posts = emulator.requests("POST", V3_CREATE)
    assert len(posts) == 2
    assert len({post.idempotency_key for post in posts}) == 1
    assert len(emulator.videos()) == 1
    assert len(emulator.idempotent_replays(V3_CREATE)) == 1


@pytest.mark.parametrize("api", ["legacy", "v3"])
def test_a_failure_after_execute_returned_re_attaches_and_the_record_outlives_the_success(
    api: str, emulator: HeyGenEmulator, monkeypatch: pytest.MonkeyPatch, run_dag: Any
) -> None:
    """
    Reliability item 3: on Airflow 3.1 and 3.2 the record (a Variable) was deleted inside ``execute``,
    so a try failing after it (here ``post_execute``) found none and, on legacy, paid again.
    """
    if api == "legacy":
        for name, value in emulator.airflow_connection(api_version="legacy").env().items():
            monkeypatch.setenv(name, value)
    create_path = LEGACY_CREATE if api == "legacy" else V3_CREATE

    dag_run = run_dag("rel_generate_fails_after_execute", title=f"fails after execute on {api}")

    ti = generate_ti(dag_run)
    assert (str(dag_run.state), ti.try_number) == ("success", 2)
    assert len(emulator.requests("POST", create_path)) == 1, "the retry re-attached instead of submitting"
    assert len(emulator.videos()) == 1
    # Kept after the success on every Airflow version, so clearing the task re-attaches (issue 27, item 7);
    # from 3.3 it is in the task state store, before it in a Variable of this task instance.
    from airflow import __version__ as airflow_version
    from packaging.version import Version

    from heygen_provider.operators.submission_record import VariableRecord, submission_record_for

    variables = submission_variables("rel_generate_fails_after_execute")
    if Version(airflow_version) >= Version("3.3"):
        assert variables == []
    else:
        record = submission_record_for({"ti": ti})  # type: ignore[typeddict-item]
        assert isinstance(record, VariableRecord) and record.key in variables
