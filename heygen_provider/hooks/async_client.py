"""
Process-wide state of the async path: one aiohttp session per event loop and connection id, and the
connection settings, looked up once and shared by every trigger.

A triggerer runs thousands of triggers in one loop. A session per trigger (or per poll, as several
providers do) costs a TLS handshake and its memory each time; one shared, pooled session per loop
costs about 0.2 ms of CPU per poll here (see ``bench/``).
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

_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, aiohttp.ClientSession]] = (
    weakref.WeakKeyDictionary()
)
_settings: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[str, tuple[float, asyncio.Future[HeyGenConnectionSettings]]]
] = weakref.WeakKeyDictionary()


def shared_session(conn_id: str) -> aiohttp.ClientSession:
    """The running loop's session for ``conn_id``, created on first use. Call from inside the loop."""
    from heygen_provider.hooks.heygen import _user_agent

    loop = asyncio.get_running_loop()
    sessions = _sessions.setdefault(loop, {})
    session = sessions.get(conn_id)
    if session is None or session.closed:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=CONNECTION_LIMIT, ttl_dns_cache=300),
            headers={"Accept": "application/json", "User-Agent": _user_agent()},
            # Responses are small JSON; skipping cookie handling saves CPU on every poll.
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        sessions[conn_id] = session
    return session


_leases: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, int]] = weakref.WeakKeyDictionary()


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


async def shared_settings(
    conn_id: str, lookup: Callable[[], Awaitable[HeyGenConnectionSettings]]
) -> HeyGenConnectionSettings:
    """
    The connection settings for ``conn_id``, looked up at most once per :data:`SETTINGS_TTL` per loop.

    Concurrent callers share one lookup, so 10,000 triggers starting together cause one lookup, not
    10,000. A failed lookup is not cached.
    """
    loop = asyncio.get_running_loop()
    cache = _settings.setdefault(loop, {})
    entry = cache.get(conn_id)
    if entry is None or time.monotonic() - entry[0] > SETTINGS_TTL or _failed(entry[1]):
        future: asyncio.Future[HeyGenConnectionSettings] = loop.create_task(_run(lookup))
        cache[conn_id] = (time.monotonic(), future)
        entry = cache[conn_id]
    if entry[1].done():
        # The common case, on every poll: no shield, no new future, nothing for the GC to chase.
        return entry[1].result()
    return await asyncio.shield(entry[1])


async def _run(lookup: Callable[[], Awaitable[HeyGenConnectionSettings]]) -> HeyGenConnectionSettings:
    return await lookup()


def _failed(future: asyncio.Future[HeyGenConnectionSettings]) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)


async def close_shared_sessions() -> None:
    """Close the running loop's sessions and forget its cached settings (tests, clean shutdowns)."""
    loop = asyncio.get_running_loop()
    _settings.pop(loop, None)
    for session in _sessions.pop(loop, {}).values():
        await session.close()
