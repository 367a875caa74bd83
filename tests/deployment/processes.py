"""
Starting and stopping the deployment's server processes so that none outlives the test process.

Each one runs in its own process group (a kill reaches everything it forks) and gets a signal from the
kernel when the test process dies, even by SIGKILL, when no ``finally`` can run.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing, suppress
from pathlib import Path

import psutil

PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def spawn(
    command: Sequence[str],
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    user: str | None = None,
    cwd: Path | None = None,
    death_signal: int = signal.SIGTERM,
) -> subprocess.Popen[bytes]:
    """
    Start ``command`` with its output appended to ``log``.

    :param user: run as this user (PostgreSQL refuses to run as root).
    :param death_signal: what the process gets when the test process dies.
    """
    with log.open("ab") as output:
        return subprocess.Popen(
            list(command),
            env=None if env is None else dict(env),
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            user=user,
            group=user,
            extra_groups=[] if user else None,
            # Runs after the switch of user (which would clear the death signal): only setsid() and
            # prctl(), nothing that could deadlock on a lock held by another thread.
            preexec_fn=lambda: _own_group_dying_with_parent(death_signal),  # noqa: PLW1509
        )


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """
    Signal a process's whole group and wait for it; SIGKILL if it does not end in ``timeout``.

    A SIGKILL also reaches descendants that moved to a group of their own, as the loss of a machine would.
    """
    descendants = _descendants(process) if sig == signal.SIGKILL else []
    signal_group(process, sig)
    for descendant in descendants:
        with suppress(psutil.Error):
            descendant.kill()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        signal_group(process, signal.SIGKILL)
        process.wait(timeout=10)


def signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def _descendants(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    try:
        return list(psutil.Process(process.pid).children(recursive=True))
    except psutil.Error:
        return []


def memory_bytes(processes: Sequence[subprocess.Popen[bytes]]) -> int:
    """
    Memory of these processes and all their descendants: the sum of their proportional set sizes, each
    shared page split between the processes sharing it (forked workers share most of theirs).
    """
    total = 0
    for process in processes:
        with suppress(psutil.Error):
            for member in (psutil.Process(process.pid), *_descendants(process)):
                with suppress(psutil.Error):
                    total += member.memory_full_info().pss
    return total


def wait_until(condition: Callable[[], bool], timeout: float, what: str, diagnose: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{diagnose()}")


def last_lines(logs: Sequence[Path], count: int = 25) -> str:
    lines = []
    for log in logs:
        lines.append(f"--- {log.name} (last lines)")
        lines.extend(log.read_text(errors="replace").splitlines()[-count:])
    return "\n".join(lines)


def _own_group_dying_with_parent(death_signal: int) -> None:
    os.setsid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, death_signal)
