"""
Whether a waiting task was really killed, for ``cancel_on_kill``: the render is deleted only then.

Airflow stops a waiting task for more reasons than a person killing it. An operator's ``on_kill`` also
runs when a worker shuts down, when a running task is cleared and at ``execution_timeout``; a trigger is
also cancelled when its triggerer stops or hands it to another triggerer (and Airflow 3.3 calls
``BaseTrigger.on_kill`` on clear and mark-success too, and when another triggerer takes the trigger
over). In all of those the task's retry, or the trigger's next triggerer, re-attaches to the video and
must still find it: deleting it there would make the retry pay for a second render.

The task instance's state, read from Airflow at that moment through the Task SDK, tells them apart:
it is ``failed`` only when a person marked the task (or its whole run) failed. Anything else, including
not being able to ask, leaves the video alone.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Protocol

from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
from asgiref.sync import sync_to_async

#: The state a task instance is in once a person marked it, or its DAG run, failed.
KILLED_STATE = "failed"
#: Seconds a worker's ``on_kill`` waits for the answer: Airflow gives a killed task 5 s before SIGKILL,
#: and the ``DELETE`` needs the rest.
WORKER_QUESTION_TIMEOUT = 3.0
#: Seconds a trigger waits for the answer on its cancellation before Airflow 3.3, which bounds nothing
#: there: room for the first question a triggerer asks, which makes Airflow build its in-process API
#: whoever asks first (how long that takes: ``docs/benchmarks.rst``); the answers after it are quick.
TRIGGER_QUESTION_TIMEOUT = 60.0


class TaskInstanceKey(Protocol):
    """What identifies a task instance: an operator's ``ti`` or a trigger's ``task_instance``."""

    @property
    def dag_id(self) -> str: ...

    @property
    def task_id(self) -> str: ...

    @property
    def run_id(self) -> str: ...

    @property
    def map_index(self) -> int | None: ...


def _count_killed(task_instance: TaskInstanceKey) -> int:
    map_index = task_instance.map_index
    # The Task SDK's own question, as Airflow's Google provider asks it on a trigger's cancellation: it
    # goes through the supervisor (worker or triggerer) to the API server, so it works on both.
    return RuntimeTaskInstance.get_ti_count(
        dag_id=task_instance.dag_id,
        map_index=-1 if map_index is None else map_index,
        task_ids=[task_instance.task_id],
        run_ids=[task_instance.run_id],
        states=[KILLED_STATE],
    )


def task_was_killed(task_instance: TaskInstanceKey, timeout: float = WORKER_QUESTION_TIMEOUT) -> bool:
    """
    Whether ``task_instance`` is marked failed, asked from a worker (an operator's ``on_kill``).

    Airflow calls ``on_kill`` from a signal handler, which may have interrupted the task's own exchange
    with its supervisor; the question goes from a helper thread so that such an exchange can never
    deadlock the handler.

    :raises TimeoutError: when Airflow did not answer within ``timeout`` seconds.
    :raises Exception: whatever asking Airflow raised.
    """
    answers: list[int] = []
    failures: list[Exception] = []

    def ask() -> None:
        try:
            answers.append(_count_killed(task_instance))
        except Exception as error:
            failures.append(error)

    asker = threading.Thread(target=ask, name="heygen-task-state", daemon=True)
    asker.start()
    asker.join(timeout)
    if failures:
        raise failures[0]
    if not answers:
        raise TimeoutError(f"Airflow did not say within {timeout:g} s")
    return answers[0] > 0


async def atask_was_killed(task_instance: TaskInstanceKey, timeout: float | None) -> bool:
    """
    :func:`task_was_killed` from a trigger, without blocking the event loop.

    :param timeout: seconds to wait for the answer; ``None`` where Airflow bounds the caller itself
        (``BaseTrigger.on_kill`` by ``[triggerer] on_kill_timeout``).
    :raises TimeoutError: when Airflow did not answer within ``timeout`` seconds (a triggerer shutting
        down may no longer answer).
    :raises Exception: whatever asking Airflow raised.
    """
    count = await asyncio.wait_for(sync_to_async(_count_killed)(task_instance), timeout)
    return count > 0
