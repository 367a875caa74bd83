"""Starting an emulator from Python: in a background thread, or in a subprocess.

The thread variant is the quickest for unit tests. The subprocess variant gives the emulator its own
core (benchmarks) and outlives nothing it should not: Airflow's triggerer and workers, being other
processes, only need its URL either way, and tests read its request log through the admin API.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import selectors
import subprocess
import sys
import tempfile
import threading
import time
from types import TracebackType
from typing import IO, Any

from heygen_provider.testing.emulator.client import EmulatorClient
from heygen_provider.testing.emulator.connection import AirflowConnection, airflow_connection
from heygen_provider.testing.emulator.server import EmulatorApp
from heygen_provider.testing.emulator.settings import EmulatorSettings
from heygen_provider.testing.emulator.webserver import WebServer, emulator_handler
from heygen_provider.vocabulary import DEFAULT_CONN_ID

LOOPBACK_NAMES = ("localhost",)
BANNER = re.compile(r"listening on (http://\S+)")


class EmulatorStartError(RuntimeError):
    """The emulator could not start."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine.

    :param host: an address or ``localhost``.
    """
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url_for(host: str, port: int) -> str:
    """``http://host:port``, with IPv6 addresses in brackets.

    :param host: the bound address.
    :param port: the bound port.
    """
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class HeyGenEmulator(EmulatorClient):
    """A running HeyGen emulator, controllable with every :class:`EmulatorClient` method.

    Use it as a context manager::

        with HeyGenEmulator(EmulatorSettings(render_seconds=2)) as emulator:
            os.environ.update(emulator.airflow_connection().env())
            ...
            assert len(emulator.requests("POST", "/v2/video/generate")) == 1

    :param settings: the emulator's behaviour; defaults to :class:`EmulatorSettings`.
    :param host: the address to bind; loopback only unless ``allow_non_loopback``.
    :param port: the port to bind; 0 picks a free one.
    :param in_subprocess: run in a separate Python process instead of a background thread.
    :param allow_non_loopback: allow binding an address other machines can reach.
    :param startup_timeout: seconds to wait for the emulator to answer.
    """

    def __init__(
        self,
        settings: EmulatorSettings | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        in_subprocess: bool = False,
        allow_non_loopback: bool = False,
        startup_timeout: float = 15.0,
    ) -> None:
        if not allow_non_loopback and not is_loopback(host):
            raise ValueError(f"refusing to bind {host}: not a loopback address (pass allow_non_loopback=True)")
        super().__init__("http://unstarted.invalid")
        self.settings = settings or EmulatorSettings()
        self.host = host
        self.requested_port = port
        self.in_subprocess = in_subprocess
        self.startup_timeout = startup_timeout
        self.port = 0
        self.app: EmulatorApp | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None

    @property
    def api_key(self) -> str:
        """The first API key accepted at start-up (``heygen-emulator-key`` by default)."""
        return self.settings.api_keys[0]

    @property
    def pid(self) -> int | None:
        """The subprocess's id when ``in_subprocess``, else ``None``."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """Whether it has been started and not stopped."""
        return self._thread is not None or self._process is not None

    def start(self) -> HeyGenEmulator:
        """Start serving and wait until it answers.

        :raises EmulatorStartError: when it does not come up.
        """
        if self.running:
            return self
        if self.in_subprocess:
            self._start_process()
        else:
            self._start_thread()
        self.base_url = base_url_for(self.host, self.port)
        self.wait_until_ready(self.startup_timeout)
        return self

    def _start_thread(self) -> None:
        app = EmulatorApp(self.settings)
        server = WebServer(emulator_handler(app.handle, app.open_stream))
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failures: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(server.start(self.host, self.requested_port))
            except BaseException as error:
                failures.append(error)
                started.set()
                loop.close()
                return
            app.base_url = base_url_for(self.host, server.port)
            started.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(server.close())
                # Whatever aiohttp left behind must not outlive the loop it belongs to.
                leftovers = asyncio.all_tasks(loop)
                for task in leftovers:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
                loop.close()

        thread = threading.Thread(target=serve, name="heygen-emulator", daemon=True)
        thread.start()
        started.wait(self.startup_timeout)
        if failures or not started.is_set():
            thread.join(1)
            raise EmulatorStartError(f"emulator failed to start: {failures[0] if failures else 'timeout'}")
        self.app, self._loop, self._thread, self.port = app, loop, thread, server.port

    def _start_process(self) -> None:
        command = [
            sys.executable,
            "-m",
            "heygen_provider.testing.emulator.cli",
            "--host",
            self.host,
            "--port",
            str(self.requested_port),
            "--settings-json",
            json.dumps(self.settings.to_dict()),
            "--allow-non-loopback",
            "--exit-on-stdin-eof",
        ]
        # Kept open for the life of the subprocess, to explain a failed start; closed by stop().
        self._stderr = tempfile.TemporaryFile("w+")  # noqa: SIM115
        # Its standard input is a pipe only this process writes to: if this process dies, even by SIGKILL,
        # the pipe closes and the emulator stops instead of holding its port for ever.
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )
        self._process = process
        assert process.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline and process.poll() is None:
                if not selector.select(timeout=0.1):
                    continue
                match = BANNER.search(process.stdout.readline())
                if match:
                    self.port = int(match.group(1).rsplit(":", 1)[1])
                    return
        error = self._read_stderr()
        self.stop()
        raise EmulatorStartError(f"emulator subprocess did not start: {error or 'timeout'}")

    def _read_stderr(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().strip()

    def stop(self) -> None:
        """Stop serving; the emulator can be started again afterwards (with fresh state)."""
        if self._thread is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            for pipe in (self._process.stdin, self._process.stdout):
                if pipe is not None:
                    pipe.close()
        if self._stderr is not None:
            self._stderr.close()
        self._thread = self._loop = self._process = self._stderr = self.app = None

    def __enter__(self) -> HeyGenEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def airflow_connection(
        self,
        conn_id: str = DEFAULT_CONN_ID,
        *,
        auth_type: str = "api_key",
        api_version: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> AirflowConnection:
        """The Airflow connection for this emulator.

        :param conn_id: the connection id.
        :param auth_type: ``api_key`` (the password is the first accepted key, sent as ``X-Api-Key``)
            or ``bearer`` (the first accepted OAuth token, sent as ``Authorization: Bearer``); both
            as currently configured, including :meth:`update_settings` changes.
        :param api_version: ``"v3"`` or ``"legacy"``: the extra ``api_version``, which API the
            provider speaks; ``None`` leaves the extra out, so the provider's default applies.
        :param extra: further extras, e.g. ``{"request_timeout": 5, "retry_attempts": 2}``.
        """
        if not self.running:
            raise RuntimeError("start the emulator first")
        # The settings in force, so that keys and tokens changed with update_settings() count.
        current = self.current_settings()
        if auth_type == "bearer":
            if not current["bearer_tokens"]:
                raise ValueError("no bearer token configured: set EmulatorSettings(bearer_tokens=...)")
            password = current["bearer_tokens"][0]
        elif auth_type == "api_key":
            password = current["api_keys"][0]
        else:
            raise ValueError("auth_type must be 'api_key' or 'bearer'")
        return airflow_connection(
            self.base_url, password, conn_id, auth_type=auth_type, api_version=api_version, extra=extra
        )
