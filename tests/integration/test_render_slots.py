"""
More rows than render slots, for real: ``dag.test()`` against the emulator, whose create answers 429
``rate_limit_exceeded`` with a ``Retry-After`` (a fault rule, the shape HeyGen's v3 gives when every render
slot is busy). The task waits for a slot (deferred: the slot trigger runs inline, serialized and rebuilt by
its classpath), resumes, and sends the same create again with the same ``Idempotency-Key``: one video, no
Airflow retry, the seconds waited in the result.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import task_states, video_posts, xcom_value


@pytest.mark.parametrize("dag_id", ["it_generate_deferrable", "it_generate_blocking"])
def test_refused_creates_wait_for_a_slot_and_render_once_with_the_same_key(
    run_dag: Any, emulator: Any, dag_id: str
) -> None:
    emulator.add_fault("rate_limited", method="POST", path="/v3/videos", count=2, retry_after_seconds=1)

    dag_run = run_dag(dag_id, title="more rows than slots")

    assert str(dag_run.state) == "success", task_states(dag_run)
    posts = video_posts(emulator)
    assert [post.status for post in posts] == [429, 429, 200]
    # The emulator logs no key for a request its fault rule answered before handling it; the unit tests
    # (tests/unit/test_render_slots.py) show every create of the render carries the same key.
    assert len({post.idempotency_key for post in posts} - {None}) == 1
    assert len({post.video_id for post in posts if post.video_id}) == 1
    (ti,) = dag_run.get_task_instances()
    assert ti.try_number == 1, "no Airflow retry was used"
    result = xcom_value(dag_run, "generate")
    assert result["status"] == "success" and result["slot_wait_seconds"] >= 2.0  # two Retry-After waits of 1 s
