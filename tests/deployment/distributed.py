"""
The distributed Airflow users run, on one machine: CeleryExecutor on Redis, metadata in PostgreSQL,
api-server, scheduler, dag-processor, two Celery workers and two triggerers, each a separate process.

Airflow's takeover timeouts are shortened so that a killed component's work moves within seconds, not
the defaults' minutes (see docs/deployment.rst, "Running at scale").
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.deployment.airflow_deployment import AirflowDeployment
from tests.deployment.processes import memory_bytes, wait_until
from tests.deployment.servers import PostgresServer, RedisServer

CORE = ("api-server", "scheduler", "dag-processor")
WORKERS = ("worker-1", "worker-2")
TRIGGERERS = ("triggerer-1", "triggerer-2")
WORKER_CONCURRENCY = 4
#: Seconds without a heartbeat before a triggerer's triggers go to another (default 30).
TRIGGERER_HEALTH_CHECK_THRESHOLD = 10
#: Seconds without a heartbeat before a running task counts as lost and is retried (default 300).
TASK_HEARTBEAT_TIMEOUT = 20
#: Seconds before Redis hands a message a dead worker had taken to another worker (default 86,400).
VISIBILITY_TIMEOUT = 30


def takeover_config(broker_url: str, database_url: str) -> dict[str, str]:
    """The Celery settings, and the timeouts that decide how fast a killed component's work moves."""
    return {
        "AIRFLOW__CORE__PARALLELISM": str(2 * len(WORKERS) * WORKER_CONCURRENCY),
        "AIRFLOW__API__WORKERS": "2",
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + database_url.replace("+psycopg2", ""),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
        # Sending a task to Redis on a busy 2-core machine can take longer than the 1 s default.
        "AIRFLOW__CELERY__OPERATION_TIMEOUT": "10",
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(TASK_HEARTBEAT_TIMEOUT),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
        "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": str(TRIGGERER_HEALTH_CHECK_THRESHOLD),
    }


@dataclass
class StartupFigures:
    migrate_seconds: float = 0.0
    ready_seconds: float = 0.0
    memory_bytes_ready: int = 0
    server_memory_bytes: int = 0


class DistributedDeployment(AirflowDeployment):
    """
    :param home: the throwaway AIRFLOW_HOME.
    :param dags_folder: the folder the dag-processor parses.
    :param extra_env: the HeyGen connections and the DAGs' settings.
    :param postgres: the running metadata database.
    :param redis: the running broker.
    """

    def __init__(
        self,
        home: Path,
        dags_folder: Path,
        extra_env: dict[str, str],
        postgres: PostgresServer,
        redis: RedisServer,
    ) -> None:
        super().__init__(
            home,
            dags_folder,
            extra_env,
            executor="CeleryExecutor",
            database_url=postgres.url,
            config=takeover_config(redis.url, postgres.url),
        )
        self.servers = (postgres, redis)
        self.startup = StartupFigures()

    def start_all(self) -> None:
        began = time.monotonic()
        self.cli("db", "migrate", timeout=600)
        migrated = time.monotonic()
        for name in CORE:
            self.start(name)
        for worker in WORKERS:
            self.start_worker(worker)
        for triggerer in TRIGGERERS:
            self.start(triggerer, "triggerer", "--skip-serve-logs")
        self.wait_ready()
        self.startup = StartupFigures(
            migrate_seconds=migrated - began,
            ready_seconds=time.monotonic() - migrated,
            memory_bytes_ready=self.memory_bytes(),
            server_memory_bytes=self.server_memory_bytes(),
        )

    def start_worker(self, name: str) -> None:
        # Two workers on one host: distinct Celery node names, and no log server fighting for one port.
        self.start(name, "celery", "worker", "--skip-serve-logs", "--celery-hostname", f"{name}@%h")

    def restart_stopped(self) -> None:
        """Bring back whatever an earlier drill killed, and wait until it is ready."""
        stopped = [name for name in (*CORE, *WORKERS, *TRIGGERERS) if name not in self.processes]
        for name in stopped:
            self.restart(name)
        if stopped:
            self.wait_ready()

    def wait_ready(self, timeout: float = 300) -> None:
        self.wait_healthy(("metadatabase", "scheduler", "triggerer", "dag_processor"), timeout)
        wait_until(
            lambda: set(self.live_triggerers()) >= set(TRIGGERERS), timeout, "both triggerers alive", self.diagnose
        )
        wait_until(self.workers_ready, timeout, "both Celery workers ready", self.diagnose)

    def workers_ready(self) -> bool:
        self.assert_running()
        return all(" ready." in self.log_since_start(name) for name in WORKERS)

    def live_triggerers(self) -> dict[str, int]:
        """Job id of each triggerer that heartbeat within the health check threshold, by hostname."""
        rows = self.query(
            "SELECT hostname, id FROM job WHERE job_type = 'TriggererJob' AND state = 'running' "
            "AND latest_heartbeat > :since",
            since=_utc_seconds_ago(TRIGGERER_HEALTH_CHECK_THRESHOLD),
        )
        return {str(hostname): int(job_id) for hostname, job_id in rows}

    def triggers_by_triggerer(self) -> dict[str, int]:
        """How many triggers each triggerer holds, by hostname."""
        rows = self.query(
            "SELECT job.hostname, count(*) FROM trigger JOIN job ON job.id = trigger.triggerer_id GROUP BY job.hostname"
        )
        return {str(hostname): int(count) for hostname, count in rows}

    def server_memory_bytes(self) -> int:
        return memory_bytes([server.process for server in self.servers if server.process is not None])


def _utc_seconds_ago(seconds: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(seconds=seconds)
