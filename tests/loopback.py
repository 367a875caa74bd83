"""A HeyGen status endpoint on 127.0.0.1, served by a real aiohttp server, for tests of the async path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web


async def start_status_server(handle: Callable[[web.Request], Awaitable[web.Response]]) -> tuple[web.AppRunner, str]:
    """
    Serve ``handle`` at the legacy and the v3 status paths (and v3's ``DELETE`` of a video) on a free port of 127.0.0.1.

    :returns: the runner (``await runner.cleanup()`` stops it) and the base URL.
    """
    app = web.Application()
    app.router.add_get("/v1/video_status.get", handle)
    app.router.add_get("/v3/videos/{video_id}", handle)
    app.router.add_delete("/v3/videos/{video_id}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"
