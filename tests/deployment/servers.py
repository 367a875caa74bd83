"""
PostgreSQL and Redis for the distributed deployment, from the distribution's packages, on free loopback
ports with throwaway data folders (``make servers`` installs them).

``initdb`` and ``postgres`` refuse to run as root: as root they run as the ``postgres`` user the
package creates, in a folder that user owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from contextlib import closing
from pathlib import Path

from tests.deployment.processes import free_port, last_lines, spawn, stop, wait_until

POSTGRES_BINARIES = "/usr/lib/postgresql/*/bin"


def postgres_binaries() -> Path | None:
    """The newest installed PostgreSQL's ``bin`` folder, or ``None``."""
    found = sorted(glob.glob(POSTGRES_BINARIES), key=lambda path: int(Path(path).parent.name))
    return Path(found[-1]) if found else None


def missing_servers() -> str | None:
    """Why the distributed deployment cannot run here, or ``None`` when it can."""
    if postgres_binaries() is None:
        return f"PostgreSQL is not installed (no {POSTGRES_BINARIES}/postgres; `make servers` installs it)"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (`make servers` installs it)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no `postgres` user to run PostgreSQL as"
    return None


class PostgresServer:
    """A PostgreSQL cluster of its own: ``initdb`` in a temporary folder, ``postgres`` on a free port."""

    def __init__(self) -> None:
        binaries = postgres_binaries()
        assert binaries is not None, missing_servers()
        self.binaries = binaries
        self.user = "postgres" if os.geteuid() == 0 else None
        # Not under pytest's tmp_path: its parents are closed to the postgres user.
        self.folder = Path(tempfile.mkdtemp(prefix="heygen-postgres-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        if self.user is not None:
            shutil.chown(self.folder, self.user, self.user)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> PostgresServer:
        initdb = spawn(
            [str(self.binaries / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"],
            self.log,
            user=self.user,
            cwd=self.folder,
        )
        if initdb.wait(timeout=120) != 0:
            raise RuntimeError(f"initdb failed\n{last_lines([self.log])}")
        self.process = spawn(
            [
                str(self.binaries / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={self.folder}",
                # Every Airflow process keeps a pool; the default 100 connections is tight for seven.
                "-c",
                "max_connections=400",
                # A throwaway database: durability only costs time here.
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ],
            self.log,
            user=self.user,
            cwd=self.folder,
            # Fast shutdown: it disconnects the clients instead of waiting for them.
            death_signal=signal.SIGINT,
        )
        wait_until(lambda: _answers_queries(self.url), 60, "PostgreSQL to answer queries", self.diagnose)
        return self

    def diagnose(self) -> str:
        return last_lines([self.log])

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process, signal.SIGINT)
            self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)


class RedisServer:
    """``redis-server`` on a free loopback port, nothing saved to disk."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="heygen-redis-"))
        self.log = self.folder / "redis.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        redis = shutil.which("redis-server")
        assert redis is not None, missing_servers()
        self.process = spawn(
            [redis, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            self.log,
            cwd=self.folder,
        )
        wait_until(lambda: _redis_pong(self.port), 30, "Redis to answer PING", lambda: last_lines([self.log]))
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)


def _answers_queries(url: str) -> bool:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
        return True
    except sqlalchemy.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def _redis_pong(port: int) -> bool:
    try:
        with closing(socket.create_connection(("127.0.0.1", port), timeout=1)) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False
