"""
Only ``video_inputs`` and ``extra_fields`` may name a ``.json`` template file, and only as their whole
value: a title, a callback id or a scene's text that merely ends in ``.json`` is text, rendered and sent as
written, even when a file of that name lies next to the DAG. Real ``dag.test()`` runs against the emulator.
"""

from __future__ import annotations

from typing import Any

from heygen_provider.testing.emulator import HeyGenEmulator
from tests.integration.conftest import task_states, video_posts
from tests.reliability.conftest import TaskErrors


def test_text_ending_in_json_is_sent_as_text(run_dag: Any, emulator: HeyGenEmulator, task_errors: TaskErrors) -> None:
    dag_run = run_dag("rel_generate_json_lookalikes")

    assert str(dag_run.state) == "success", (task_states(dag_run), task_errors.errors)
    [post] = video_posts(emulator)
    assert post.json["title"] == "Tutorial: edit package.json"
    assert post.json["callback_id"] == "heygen_scenes.json", "a file of that name exists, and is not read"
    assert post.json["script"] == "Now open settings.json"
    assert post.json["brand_note"] == "see style.json"


def test_video_inputs_and_extra_fields_still_name_template_files(
    run_dag: Any, emulator: HeyGenEmulator, task_errors: TaskErrors
) -> None:
    dag_run = run_dag("rel_generate_from_template_files", title="the board")

    assert str(dag_run.state) == "success", (task_states(dag_run), task_errors.errors)
    [post] = video_posts(emulator)
    assert post.json["script"] == "Scenes from a JSON template file, for the board."
    assert post.json["brand_note"] == "Made for the board, see style.json"
    assert post.json["title"] == "the board"
