"""
Trigger log lines written from a thread, so the event loop never waits on them.

In Airflow's triggerer a trigger's log line goes down a pipe to the supervisor process, which reads at
most 4 KiB of it per turn of a loop that queries every trigger it runs. With thousands of triggers
the pipe fills, and a line written from the event loop then blocks the loop, every trigger on it with
it: at 10,000 triggers the runner stalled for 30 s at a time and Airflow reported it as deadlocked
(``bench/real_triggerer.py``). One writer thread per process keeps the lines in order.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_writer: ThreadPoolExecutor | None = None


async def write_log(method: Callable[..., Any], message: str, *args: Any) -> None:
    """
    Call ``method(message, *args)`` (a logger's ``info``, ``warning``, ...) in the writer thread and
    wait for it without blocking the loop.

    The caller's context goes with it: Airflow routes a trigger's lines to its task's log by context
    variables.
    """
    global _writer  # noqa: PLW0603 - one writer thread per process, made on first use
    if _writer is None:
        _writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="heygen-trigger-log")
    context = contextvars.copy_context()
    await asyncio.get_running_loop().run_in_executor(_writer, context.run, functools.partial(method, message, *args))
