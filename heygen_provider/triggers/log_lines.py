"""
Trigger log lines written from a thread, so the event loop never waits on them.

In Airflow's triggerer a trigger's log line goes down a pipe to the supervisor process, which reads at
most 4 KiB of it per turn of a loop that queries every trigger it runs. With thousands of triggers
the pipe fills, and a line written from the event loop then blocks the loop, every trigger on it with
it (measured in ``docs/benchmarks.rst``). One writer thread per event loop, owned by the loop's
:class:`~heygen_provider.triggers.loop_state.TriggererLoopState`, keeps the lines in order.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


class LogWriter:
    """One thread that writes log lines in the order they were given; started on the first line."""

    def __init__(self) -> None:
        self._thread: ThreadPoolExecutor | None = None

    async def write(self, method: Callable[..., Any], message: str, *args: Any) -> None:
        """
        Call ``method(message, *args)`` (a logger's ``info``, ``warning``, ...) in the writer thread and
        wait for it without blocking the loop.

        The caller's context goes with it: Airflow routes a trigger's lines to its task's log by context
        variables.
        """
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="heygen-trigger-log")
        context = contextvars.copy_context()
        await asyncio.get_running_loop().run_in_executor(
            self._thread, context.run, functools.partial(method, message, *args)
        )

    def close(self) -> None:
        """Let the thread end once the lines given so far are written; a later line starts a new one."""
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.shutdown(wait=False)


_deprecated_writer = LogWriter()


async def write_log(method: Callable[..., Any], message: str, *args: Any) -> None:
    """
    Deprecated, kept until the next major release: write through the loop's writer,
    ``TriggererLoopState.of_running_loop().log_writer.write(...)``
    (:class:`~heygen_provider.triggers.loop_state.TriggererLoopState`).
    """
    warnings.warn(
        "heygen_provider.triggers.log_lines.write_log is deprecated: use "
        "heygen_provider.triggers.loop_state.TriggererLoopState.of_running_loop().log_writer.write",
        DeprecationWarning,
        stacklevel=2,
    )
    await _deprecated_writer.write(method, message, *args)
