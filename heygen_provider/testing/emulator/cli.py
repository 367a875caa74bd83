"""``heygen-emulator``: run the HeyGen emulator from the command line.

Example::

    heygen-emulator --port 8000 --render-seconds 20 --plan pay_as_you_go

The first line printed is ``HeyGen emulator listening on http://127.0.0.1:8000``; a ready-to-paste
``export AIRFLOW_CONN_HEYGEN_DEFAULT=...`` line follows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from heygen_provider.testing.emulator import drawing
from heygen_provider.testing.emulator.connection import AirflowConnection
from heygen_provider.testing.emulator.magic import parse_size
from heygen_provider.testing.emulator.runner import base_url_for, is_loopback
from heygen_provider.testing.emulator.server import EmulatorApp
from heygen_provider.testing.emulator.settings import (
    DEFAULT_API_KEY,
    DEFAULT_SLOT_RETRY_AFTER_SECONDS,
    PLANS,
    EmulatorSettings,
)
from heygen_provider.testing.emulator.webserver import WebServer, emulator_handler
from heygen_provider.vocabulary import DEFAULT_CONN_ID

CLI_RENDER_SECONDS = 20.0


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog="heygen-emulator",
        description="A local HeyGen API emulator for testing Airflow DAGs offline. Admin API under /_emulator/.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback only by default)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind; 0 picks a free one (default 8000)")
    parser.add_argument(
        "--allow-non-loopback", action="store_true", help="allow binding an address other machines can reach"
    )
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        help=f"accepted X-Api-Key (repeatable; default {DEFAULT_API_KEY})",
    )
    parser.add_argument(
        "--bearer-token", action="append", dest="bearer_tokens", help="accepted OAuth token (repeatable)"
    )
    parser.add_argument("--plan", choices=sorted(PLANS), default=None, help="plan limits (default pay_as_you_go)")
    parser.add_argument(
        "--concurrent-renders",
        type=int,
        default=None,
        help="video jobs that run at once, instead of the plan's; v3 refuses more with 429",
    )
    parser.add_argument(
        "--slot-retry-after-seconds",
        type=int,
        default=None,
        help=f"Retry-After of v3's 429 when every render slot is taken (default {DEFAULT_SLOT_RETRY_AFTER_SECONDS})",
    )
    parser.add_argument(
        "--render-seconds", type=float, default=None, help=f"processing time per video (default {CLI_RENDER_SECONDS:g})"
    )
    parser.add_argument("--pending-seconds", type=float, default=None, help="time a new video reads pending")
    parser.add_argument("--realistic", action="store_true", help="HeyGen-like timings: renders take minutes")
    parser.add_argument("--url-lifetime-seconds", type=float, default=None, help="signed media URL lifetime (7 days)")
    parser.add_argument("--video-size", default=None, help="pad every MP4 to this size, e.g. 200MB")
    parser.add_argument("--strict-catalogue", action="store_true", help="refuse avatar and voice ids not listed")
    parser.add_argument("--remaining-quota", type=float, default=None, help="seconds of video the account may render")
    parser.add_argument(
        "--legacy-retired",
        action="store_true",
        help="answer the legacy paths (/v1/..., /v2/...) with 404 HTML pages, as a retired API would",
    )
    parser.add_argument(
        "--create-delay-seconds", type=float, default=None, help="time each creation request takes to answer"
    )
    parser.add_argument("--conn-id", default=DEFAULT_CONN_ID, help="Airflow connection id to print")
    parser.add_argument("--settings-json", default=None, help="all settings as JSON (used by the Python API)")
    parser.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="stop when standard input closes, as it does when the process that started the emulator dies",
    )
    return parser


def settings_from_arguments(arguments: argparse.Namespace) -> EmulatorSettings:
    """Combine ``--settings-json``, ``--realistic`` and the individual options (which win).

    :param arguments: the parsed command line.
    """
    values: dict[str, Any] = json.loads(arguments.settings_json) if arguments.settings_json else {}
    if arguments.realistic:
        values = {**EmulatorSettings.realistic().to_dict(), **values}
    elif not arguments.settings_json:
        values["render_seconds"] = CLI_RENDER_SECONDS
    options = {
        "api_keys": arguments.api_keys,
        "bearer_tokens": arguments.bearer_tokens,
        "plan": arguments.plan,
        "concurrent_renders": arguments.concurrent_renders,
        "slot_retry_after_seconds": arguments.slot_retry_after_seconds,
        "render_seconds": arguments.render_seconds,
        "pending_seconds": arguments.pending_seconds,
        "url_lifetime_seconds": arguments.url_lifetime_seconds,
        "video_size_bytes": parse_size(arguments.video_size) if arguments.video_size else None,
        "strict_catalogue": arguments.strict_catalogue or None,
        "remaining_quota": arguments.remaining_quota,
        "legacy_retired": arguments.legacy_retired or None,
        "create_delay_seconds": arguments.create_delay_seconds,
    }
    values.update({name: value for name, value in options.items() if value is not None})
    return EmulatorSettings.from_dict(values)


async def serve(
    settings: EmulatorSettings, host: str, port: int, conn_id: str, *, exit_on_stdin_eof: bool = False
) -> None:
    """Serve until SIGINT or SIGTERM, after printing the URL and the Airflow connection.

    :param settings: the emulator settings.
    :param host: the address to bind.
    :param port: the port to bind.
    :param conn_id: the Airflow connection id to print.
    :param exit_on_stdin_eof: also stop when standard input closes.
    """
    missing = drawing.missing_extra()
    if missing is not None:
        print(
            f"Note: {missing}, so every video is the same 2-second sample; install {drawing.EXTRA} "
            "to draw each video with its title and script.",
            file=sys.stderr,
            flush=True,
        )
    app = EmulatorApp(settings)
    server = WebServer(emulator_handler(app.handle, app.open_stream))
    bound_port = await server.start(host, port)
    app.base_url = base_url_for(host, bound_port)
    connection = AirflowConnection(conn_id=conn_id, host=app.base_url, password=settings.api_keys[0])
    print(f"HeyGen emulator listening on {app.base_url}", flush=True)
    print(f"API key: {settings.api_keys[0]}", flush=True)
    print("Airflow connection (paste into the shell that runs Airflow):", flush=True)
    print(connection.export_line(), flush=True)
    print(f"Admin API: {app.base_url}/_emulator/ - press Ctrl+C to stop", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stopped.set)
    if exit_on_stdin_eof:
        _stop_on_eof(loop, sys.stdin.fileno(), stopped)
    try:
        await stopped.wait()
    finally:
        await server.close()


def _stop_on_eof(loop: asyncio.AbstractEventLoop, descriptor: int, stopped: asyncio.Event) -> None:
    # A parent killed with SIGKILL cannot stop its emulator, but the kernel closes the parent's end of
    # this pipe whatever way it dies, so end of file is the one signal that always comes.
    def read() -> None:
        try:
            data = os.read(descriptor, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(descriptor)
            stopped.set()

    os.set_blocking(descriptor, False)
    loop.add_reader(descriptor, read)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``heygen-emulator`` console script.

    :param argv: the arguments; the process's own when ``None``.
    :returns: the exit status.
    """
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if not arguments.allow_non_loopback and not is_loopback(arguments.host):
        parser.error(f"refusing to bind {arguments.host}: not a loopback address (add --allow-non-loopback)")
    try:
        settings = settings_from_arguments(arguments)
    except ValueError as problem:
        parser.error(str(problem))
    try:
        asyncio.run(
            serve(
                settings,
                arguments.host,
                arguments.port,
                arguments.conn_id,
                exit_on_stdin_eof=arguments.exit_on_stdin_eof,
            )
        )
    except OSError as error:
        print(f"heygen-emulator: cannot listen on {arguments.host}:{arguments.port}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
