"""
What the hook keeps between calls: the connection settings (sync and async paths alike) and, per
event loop, one aiohttp session per connection id, shared by every trigger on that loop.

A triggerer runs thousands of triggers in one loop. A session per trigger (or per poll, as several
providers do) costs a TLS handshake and its memory each time; one shared, pooled session per loop
does not (``docs/benchmarks.rst``). The settings are plain data, so one cache serves both paths; only
the in-flight async lookup belongs to a loop.

The loop's sessions live in one object per loop, :class:`LoopSessions`. In a triggerer that object is
the loop's :class:`~heygen_provider.triggers.loop_state.TriggererLoopState`, which adds the status
pollers, the heap freezer, the log writer and the progress budget and closes them all with the
sessions; the transport finds it here without importing the trigger layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import warnings
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import aiohttp

if TYPE_CHECKING:
    from heygen_provider.connection import HeyGenConnectionSettings

#: Connection settings are looked up again after this many seconds, so a rotated key is picked up.
SETTINGS_TTL = 300.0
#: Connections kept open per session; plenty for one API host at thousands of polls per second.
CONNECTION_LIMIT = 100

_settings: dict[str, tuple[float, HeyGenConnectionSettings]] = {}

LoopStateT = TypeVar("LoopStateT", bound="LoopSessions")


class LoopSessions:
    """
    The HTTP sessions (one per connection id) and the in-flight settings lookups of one event loop.

    Made by :func:`loop_state`, never directly: one per loop. Each wait holds it (``async with``); the
    last to leave closes it, so a loop that ends (``dag.test()`` runs each trigger in a loop of its own)
    leaves no open connection behind, while in a triggerer, where waits overlap, it stays open as long
    as any wait uses it.
    """

    def __init__(self) -> None:
        self.sessions: dict[str, aiohttp.ClientSession] = {}
        self.lookups: dict[str, asyncio.Task[HeyGenConnectionSettings]] = {}
        #: The waits holding this state: the one reference count.
        self.users = 0

    async def __aenter__(self: LoopStateT) -> LoopStateT:
        self.users += 1
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.users -= 1
        if self.users == 0:
            await self.close()

    def session(self, conn_id: str, headers: dict[str, str]) -> aiohttp.ClientSession:
        """
        The session for ``conn_id``, created on first use. Call from inside the loop.

        :param headers: the session's default headers (the connection's non-secret ones).
        """
        session = self.sessions.get(conn_id)
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=CONNECTION_LIMIT, ttl_dns_cache=300),
                headers=headers,
                # Responses are small JSON; skipping cookie handling saves CPU on every poll.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            self.sessions[conn_id] = session
        return session

    async def close(self) -> None:
        """Close every session of the loop; the next call opens a new one."""
        sessions, self.sessions = self.sessions, {}
        for session in sessions.values():
            await session.close()


#: The one registry of per-loop state: weak, so a loop that ends takes its state with it.
_loop_states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopSessions] = weakref.WeakKeyDictionary()


def loop_state(kind: type[LoopStateT]) -> LoopStateT:
    """
    The running loop's state, made as a ``kind`` on first use.

    When the hook made a plain :class:`LoopSessions` first (its async calls outside any trigger) and a
    trigger then asks for a subclass, the subclass takes over the sessions already open.
    """
    loop = asyncio.get_running_loop()
    state = _loop_states.get(loop)
    if isinstance(state, kind):
        return state
    made = kind()
    if state is not None:
        made.sessions, made.lookups, made.users = state.sessions, state.lookups, state.users
    _loop_states[loop] = made
    return made


def shared_session(conn_id: str, headers: dict[str, str]) -> aiohttp.ClientSession:
    """
    The running loop's session for ``conn_id``, created on first use. Call from inside the loop.

    :param headers: the session's default headers (the connection's non-secret ones).
    """
    loop = asyncio.get_running_loop()
    state = _loop_states.get(loop)
    if state is None:
        state = _loop_states[loop] = LoopSessions()
    return state.session(conn_id, headers)


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
    pending = loop_state(LoopSessions).lookups
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


@contextlib.asynccontextmanager
async def session_lease(conn_id: str) -> AsyncIterator[None]:
    """
    Deprecated, kept until the next major release: hold the running loop's state instead
    (``async with TriggererLoopState.of_running_loop():``). Holds the loop's sessions while a wait runs.

    :param conn_id: unused; every connection's session lives as long as the loop's state is held.
    """
    warnings.warn(
        "heygen_provider.hooks.cache.session_lease is deprecated: hold "
        "heygen_provider.triggers.loop_state.TriggererLoopState.of_running_loop() with async with",
        DeprecationWarning,
        stacklevel=2,
    )
    async with loop_state(LoopSessions):
        yield


async def close_shared_sessions() -> None:
    """
    Deprecated, kept until the next major release: close the running loop's state with
    ``await TriggererLoopState.of_running_loop().close()``
    (:class:`~heygen_provider.triggers.loop_state.TriggererLoopState`), which a trigger's wait does by
    itself when the loop's last wait ends. Closes the running loop's sessions and forgets every cached
    setting.
    """
    warnings.warn(
        "heygen_provider.hooks.cache.close_shared_sessions is deprecated: the loop's "
        "heygen_provider.triggers.loop_state.TriggererLoopState closes its sessions when its last wait ends",
        DeprecationWarning,
        stacklevel=2,
    )
    forget_settings()
    state = _loop_states.get(asyncio.get_running_loop())
    if state is not None:
        await state.close()
