"""
Process-wide caches of the hook: the connection settings (sync and async paths alike) and one aiohttp
session per event loop and connection id, shared by every trigger on that loop.

A triggerer runs thousands of triggers in one loop. A session per trigger (or per poll, as several
providers do) costs a TLS handshake and its memory each time; one shared, pooled session per loop
costs about 0.2 ms of CPU per poll here (see ``bench/``). The settings are plain data, so one cache
serves both paths; only the in-flight async lookup belongs to a loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    from heygen_provider.connection import HeyGenConnectionSettings

#: Connection settings are looked up again after this many seconds, so a rotated key is picked up.
SETTINGS_TTL = 300.0
#: Connections kept open per session; plenty for one API host at thousands of polls per second.
CONNECTION_LIMIT = 100

_settings: dict[str, tuple[float, HeyGenConnectionSettings]] = {}
_lookups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Task[HeyGenConnectionSettings]]] = (
    weakref.WeakKeyDictionary()
)
_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, aiohttp.ClientSession]] = (
    weakref.WeakKeyDictionary()
)
_leases: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, int]] = weakref.WeakKeyDictionary()


def _fresh(conn_id: str) -> HeyGenConnectionSettings | None:
    entry = _settings.get(conn_id)
    if entry is None or time.monotonic() - entry[0] > SETTINGS_TTL:
        return None
    return entry[1]


def cached_settings(conn_id: str, lookup: Callable[[], HeyGenConnectionSettings]) -> HeyGenConnectionSettings:
    """The settings of ``conn_id``, looked up (sync) at most once per :data:`SETTINGS_TTL`."""
    settings = _fresh(conn_id)
    if settings is None:
        settings = lookup()
        _settings[conn_id] = (time.monotonic(), settings)
    return settings


async def acached_settings(
    conn_id: str, lookup: Callable[[], Awaitable[HeyGenConnectionSettings]]
) -> HeyGenConnectionSettings:
    """
    The settings of ``conn_id``, looked up without blocking at most once per :data:`SETTINGS_TTL`.

    Concurrent callers on one loop share one lookup, so 10,000 triggers starting together cause one
    lookup, not 10,000. A failed lookup is not cached.
    """
    settings = _fresh(conn_id)
    if settings is not None:
        # The common case, on every poll: no task, no future, nothing for the GC to chase.
        return settings
    pending = _lookups.setdefault(asyncio.get_running_loop(), {})
    task = pending.get(conn_id)
    if task is None:
        task = asyncio.ensure_future(_look_up(conn_id, lookup))
        pending[conn_id] = task
        task.add_done_callback(lambda done: pending.pop(conn_id, None) if pending.get(conn_id) is done else None)
    return await asyncio.shield(task)


async def _look_up(conn_id: str, lookup: Callable[[], Awaitable[HeyGenConnectionSettings]]) -> HeyGenConnectionSettings:
    settings = await lookup()
    _settings[conn_id] = (time.monotonic(), settings)
    return settings


def forget_settings(conn_id: str | None = None) -> None:
    """
    Drop the cached settings of ``conn_id`` (of every connection when ``None``), so the next call looks
    the connection up again: after HeyGen refused its key, or when a test changes it.
    """
    if conn_id is None:
        _settings.clear()
    else:
        _settings.pop(conn_id, None)


def shared_session(conn_id: str, headers: dict[str, str]) -> aiohttp.ClientSession:
    """
    The running loop's session for ``conn_id``, created on first use. Call from inside the loop.

    :param headers: the session's default headers (the connection's non-secret ones).
    """
    loop = asyncio.get_running_loop()
    sessions = _sessions.setdefault(loop, {})
    session = sessions.get(conn_id)
    if session is None or session.closed:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=CONNECTION_LIMIT, ttl_dns_cache=300),
            headers=headers,
            # Responses are small JSON; skipping cookie handling saves CPU on every poll.
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        sessions[conn_id] = session
    return session


@contextlib.asynccontextmanager
async def session_lease(conn_id: str) -> AsyncIterator[None]:
    """
    Hold the loop's shared session for ``conn_id`` while a trigger runs.

    The last holder to leave closes it, so a loop that ends (``dag.test()`` runs each trigger in a
    loop of its own) leaves no open connection behind; in a triggerer, where triggers overlap, the
    session lives as long as any trigger uses it.
    """
    loop = asyncio.get_running_loop()
    counts = _leases.setdefault(loop, {})
    counts[conn_id] = counts.get(conn_id, 0) + 1
    try:
        yield
    finally:
        counts[conn_id] -= 1
        if counts[conn_id] == 0:
            del counts[conn_id]
            session = _sessions.get(loop, {}).pop(conn_id, None)
            if session is not None:
                await session.close()


async def close_shared_sessions() -> None:
    """Close the running loop's sessions and forget every cached setting (tests, clean shutdowns)."""
    loop = asyncio.get_running_loop()
    forget_settings()
    for session in _sessions.pop(loop, {}).values():
        await session.close()
