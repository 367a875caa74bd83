"""
Rows from an upstream task are data in a real ``dag.test()`` run against the emulator: a mapped row title
``{{ conn.heygen_default.password }}`` reaches HeyGen as written, and the key appears nowhere (XCom,
rendered fields, the grid's map index, logs, the emulator's request log). The shipped photo example
greets a photo named ``{{ 6*7 }}.png`` by its name.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from heygen_provider.testing.emulator import HeyGenEmulator, fingerprint
from tests.conftest import EXAMPLE_DAGS
from tests.integration.conftest import task_states, video_posts
from tests.reliability.conftest import TaskErrors
from tests.reliability.test_secret_leakage import LEAK_KEY, disable_airflow_masking, run_log_files, stored_values

pytestmark = pytest.mark.integration

#: What the rows of ``rel_rows_with_jinja_syntax`` (tests/integration/dags) carry.
KEY_TEMPLATE = "{{ conn.heygen_default.password }}"
SUM_TEMPLATE = "Q3 {{ 6*7 }}"


def rendered_map_indexes(dag_run: Any) -> dict[tuple[str, int], str | None]:
    return {(ti.task_id, ti.map_index): ti.rendered_map_index for ti in dag_run.get_task_instances()}


def test_a_mapped_row_title_reaches_heygen_verbatim_and_the_key_is_nowhere(
    emulator: HeyGenEmulator,
    run_dag: Any,
    task_errors: TaskErrors,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Airflow's masker off: a key found was put there by the provider, not caught after the fact.
    disable_airflow_masking(monkeypatch)
    emulator.update_settings(api_keys=[LEAK_KEY])
    connection = emulator.airflow_connection()
    connection = type(connection)(connection.conn_id, connection.host, LEAK_KEY, connection.extra)
    for name, value in connection.env().items():
        monkeypatch.setenv(name, value)

    dag_run = run_dag("rel_rows_with_jinja_syntax")

    assert str(dag_run.state) == "success", (task_states(dag_run), task_errors.errors)
    api_calls = [entry for entry in emulator.requests() if not entry.path.startswith("/media/")]
    assert api_calls and all(entry.key_fingerprint == fingerprint(LEAK_KEY) for entry in api_calls)
    posts = sorted(video_posts(emulator), key=lambda post: post.json["callback_id"])
    assert [(post.json["title"], post.json["script"]) for post in posts] == [
        (KEY_TEMPLATE, f"Revenue {SUM_TEMPLATE}"),
        (SUM_TEMPLATE, KEY_TEMPLATE),
    ]
    assert [post.json["callback_id"] for post in posts] == ["row-0", "row-1"], "the DAG file's template is rendered"
    [template_post] = emulator.requests(method="POST", path="/v3/templates/tpl_weekly_update")
    assert template_post.json["title"] == KEY_TEMPLATE
    variables = template_post.json["variables"]
    assert variables["manager_name"]["properties"]["content"] == KEY_TEMPLATE
    assert variables["region"]["properties"]["content"] == SUM_TEMPLATE
    map_indexes = rendered_map_indexes(dag_run)
    assert map_indexes[("generate", 0)] == KEY_TEMPLATE and map_indexes[("generate", 1)] == SUM_TEMPLATE
    assert map_indexes[("render_template", 0)] == KEY_TEMPLATE

    captured = capfd.readouterr()
    places = {
        "stdout": captured.out,
        "stderr": captured.err,
        "log records": caplog.text,
        **{f"log file {path.name}": path.read_text(errors="replace") for path in run_log_files(dag_run)},
        **stored_values(dag_run),
        "map indexes": json.dumps(list(map_indexes.values())),
        "emulator request log": json.dumps([entry.to_dict() for entry in emulator.requests()], default=str),
    }
    assert [place for place, text in places.items() if LEAK_KEY in text or LEAK_KEY[8:] in text] == []
    # Not a vacuous search: the run's XCom and rendered fields were read, and hold the rows as written.
    assert KEY_TEMPLATE in places["xcom"] and KEY_TEMPLATE in places["rendered template fields"]
    assert "Submitted HeyGen video" in captured.out + captured.err + caplog.text


def test_the_photo_example_greets_a_photo_named_like_a_template(
    emulator: HeyGenEmulator, run_dag: Any, task_errors: TaskErrors, tmp_path: Path
) -> None:
    shutil.copy(EXAMPLE_DAGS / "data" / "photos" / "ada.png", tmp_path / "{{ 6*7 }}.png")

    dag_run = run_dag("heygen_avatar_iv_photos", photos_uri=tmp_path.as_uri())

    assert str(dag_run.state) == "success", (task_states(dag_run), task_errors.errors)
    [post] = video_posts(emulator)
    assert post.json["title"] == "Hello from {{ 6*7 }}"
    assert post.json["script"] == "Hi, I am {{ 6*7 }}. Nice to meet you!"
    assert [asset["filename"] for asset in emulator.assets()] == ["{{ 6*7 }}.png"]
