"""
The failure drill: many mapped deferrable renders, one Celery worker SIGKILLed while a create is in
flight, then the triggerer holding the most triggers SIGKILLed while every render is still running.

The emulator holds every render in ``pending`` until the drill releases it, so both kills land while
rendering however slow the machine is, and answers each create after ``CREATE_DELAY_SECONDS`` (HeyGen's
p50 is about 4 s): the video exists from the moment the request arrives, so a worker killed before the
answer has made a video it never recorded, the very window between HeyGen's answer and the submission
record that a retry must not pay for again.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heygen_provider.testing.emulator import EmulatorClient, LoggedRequest
from tests.deployment.airflow_deployment import REPOSITORY
from tests.deployment.dags import heygen_drill
from tests.deployment.distributed import TRIGGERERS, WORKERS, DistributedDeployment
from tests.deployment.processes import wait_until

CREATE_DELAY_SECONDS = 2.0
#: Renders wait this long in ``pending`` unless released: longer than any drill.
HELD_SECONDS = 3600.0
CREATE_PATHS = {"v3": "/v3/videos", "legacy": "/v2/video/generate"}
STATUS_PATHS = {"v3": "/v3/videos/", "legacy": "/v1/video_status.get"}
MAX_VIDEOS = 2000
#: Names the file a drill run writes its figures to, instead of :func:`results_path`'s default.
RESULTS_ENV = "HEYGEN_DRILL_RESULTS"
#: The figures docs/deployment.rst quotes; written only when :data:`RESULTS_ENV` names it.
COMMITTED_RESULTS = REPOSITORY / "bench" / "results" / "deployment-drill.json"
#: Where a test run writes them otherwise: ignored by git, so ``make test`` leaves the checkout clean.
TEST_RUN_RESULTS = REPOSITORY / "bench" / "results" / "test-runs" / "deployment-drill.json"


def results_path(environ: Mapping[str, str]) -> Path:
    """
    Where a drill run writes its figures: the file :data:`RESULTS_ENV` names, else
    :data:`TEST_RUN_RESULTS`, never the committed :data:`COMMITTED_RESULTS` unless asked for.

    :param environ: the environment (``os.environ``).
    """
    given = environ.get(RESULTS_ENV)
    return Path(given) if given else TEST_RUN_RESULTS


@dataclass
class WorkerKill:
    worker: str
    after_creates: int
    in_flight_rows: list[int]


class Drill:
    """
    :param deployment: the running distributed deployment.
    :param emulator: the emulator its connections point at.
    :param generation: ``v3`` or ``legacy``.
    :param rng: decides the moment of the worker kill.
    :param say: prints a progress line.
    """

    def __init__(
        self,
        deployment: DistributedDeployment,
        emulator: EmulatorClient,
        generation: str,
        rng: random.Random,
        say: Callable[[str], None],
    ) -> None:
        self.deployment = deployment
        self.emulator = emulator
        self.generation = generation
        self.dag_id = heygen_drill.dag_id(generation)
        self.videos = heygen_drill.VIDEOS
        self.rng = rng
        self.say = say
        self.run_id = ""
        self.figures: dict[str, Any] = {"videos": self.videos, "generation": generation}

    def run(self) -> dict[str, Any]:
        assert 0 < self.videos <= MAX_VIDEOS, f"HEYGEN_DRILL_VIDEOS must be 1 to {MAX_VIDEOS}"
        self.deployment.restart_stopped()
        self.emulator.reset()
        # Every video holds a render slot for the whole drill (v3 refuses a create beyond the slots): the
        # drill is about crashes and restarts, not about waiting for a slot.
        self.emulator.update_settings(
            concurrent_renders=self.videos, pending_seconds=HELD_SECONDS, create_delay_seconds=CREATE_DELAY_SECONDS
        )
        with sampling_memory(self.deployment) as peak:
            began = time.monotonic()
            self.trigger()
            self.kill_a_worker_mid_create()
            self.wait_all_deferred()
            self.figures["all_deferred_seconds"] = round(time.monotonic() - began, 1)
            self.count_creates()
            # Every create is counted: from here on the log only needs the polls, read many times.
            self.emulator.clear_requests()
            self.kill_the_busiest_triggerer()
            self.emulator.advance_time(HELD_SECONDS + 1)
            self.wait_run_finished()
            self.figures["drill_seconds"] = round(time.monotonic() - began, 1)
        self.figures["peak_memory_gib"] = round(peak[0] / 1024**3, 2)
        self.count_videos()
        return self.figures

    def trigger(self) -> None:
        wait_until(
            lambda: bool(self.deployment.query("SELECT 1 FROM dag WHERE dag_id = :dag_id", dag_id=self.dag_id)),
            180,
            f"the dag-processor to parse {self.dag_id}",
            self.deployment.diagnose,
        )
        self.deployment.cli("dags", "unpause", self.dag_id)
        self.deployment.cli("dags", "trigger", self.dag_id)
        rows = self.deployment.query("SELECT run_id FROM dag_run WHERE dag_id = :dag_id", dag_id=self.dag_id)
        assert len(rows) == 1, f"one run of {self.dag_id} expected, found {rows}"
        self.run_id = str(rows[0][0])

    def kill_a_worker_mid_create(self) -> None:
        """After a random number of creates, SIGKILL a worker that has a create in flight right then."""
        after = self.rng.randint(max(1, self.videos // 5), max(1, self.videos // 2))
        create_path = CREATE_PATHS[self.generation]

        def worker_with_a_create_in_flight() -> bool:
            posts = self.emulator.requests(method="POST", path=create_path)
            if len(posts) < after:
                return False
            # The emulator's clock is this machine's until the drill advances it, after the kills.
            running = dict(self.running_hosts(in_flight_rows(posts, time.time())))
            # Read again just before the kill, with a margin for the kill itself to land.
            by_worker: dict[str, list[int]] = {}
            for row in in_flight_rows(posts, time.time() + 0.3):
                if running.get(row) in WORKERS:
                    by_worker.setdefault(running[row], []).append(row)
            if not by_worker:
                return False
            worker = self.rng.choice(sorted(by_worker))
            self.deployment.kill(worker)
            self.figures["worker_kill"] = WorkerKill(worker, len(posts), sorted(by_worker[worker])).__dict__
            return True

        wait_until(worker_with_a_create_in_flight, 600, "a worker with a create in flight", self.deployment.diagnose)
        self.say(f"{self.generation}: SIGKILLed {self.figures['worker_kill']}")

    def running_hosts(self, rows: set[int]) -> list[tuple[int, str]]:
        if not rows:
            return []
        found = self.deployment.query(
            "SELECT map_index, hostname FROM task_instance WHERE dag_id = :dag_id AND run_id = :run_id "
            "AND state = 'running'",
            dag_id=self.dag_id,
            run_id=self.run_id,
        )
        return [(int(row), str(hostname)) for row, hostname in found if int(row) in rows]

    def wait_all_deferred(self) -> None:
        wait_until(
            lambda: self.states().get("deferred", 0) == self.videos,
            900,
            f"all {self.videos} renders of {self.dag_id} deferred",
            lambda: f"{self.states()}\n{self.deployment.diagnose()}",
        )

    def kill_the_busiest_triggerer(self) -> None:
        """SIGKILL the triggerer holding the most triggers; time until the other runs them all."""
        wait_until(
            lambda: sum(self.deployment.triggers_by_triggerer().values()) >= self.videos,
            120,
            "every trigger assigned to a triggerer",
            self.deployment.diagnose,
        )
        held = self.deployment.triggers_by_triggerer()
        victim = max(TRIGGERERS, key=lambda name: held.get(name, 0))
        survivor = next(name for name in TRIGGERERS if name != victim)
        killed_at = time.time()
        began = time.monotonic()
        self.deployment.kill(victim)
        self.figures["triggerer_kill"] = {"triggerer": victim, "triggers_held": held}
        self.say(f"{self.generation}: SIGKILLed {victim}, which held {held.get(victim, 0)} of {held} triggers")

        wait_until(
            lambda: self.deployment.triggers_by_triggerer().get(survivor, 0) >= self.videos,
            300,
            f"{survivor} to take over every trigger",
            self.deployment.diagnose,
        )
        reassigned = time.monotonic() - began
        wait_until(
            lambda: self.videos_polled_since(killed_at) >= self.videos,
            300,
            f"every render polled again after the kill of {victim}",
            self.deployment.diagnose,
        )
        polled = time.monotonic() - began
        self.figures["takeover_reassigned_seconds"] = round(reassigned, 1)
        self.figures["takeover_seconds"] = round(polled, 1)
        self.say(
            f"{self.generation}: {survivor} took over in {polled:.1f} s "
            f"(triggers reassigned after {reassigned:.1f} s, every render polled again after {polled:.1f} s)"
        )

    def videos_polled_since(self, since: float) -> int:
        polled: set[str] = set()
        for entry in self.emulator.requests(method="GET"):
            if entry.timestamp > since and entry.path.startswith(STATUS_PATHS[self.generation]):
                polled.update(entry.bulk_ids or ([entry.video_id] if entry.video_id else []))
        return len(polled)

    def wait_run_finished(self) -> None:
        def finished() -> bool:
            rows = self.deployment.query(
                "SELECT state FROM dag_run WHERE dag_id = :dag_id AND run_id = :run_id",
                dag_id=self.dag_id,
                run_id=self.run_id,
            )
            return str(rows[0][0]) in ("success", "failed")

        wait_until(finished, 900, f"{self.dag_id} to finish", lambda: f"{self.states()}\n{self.deployment.diagnose()}")

    def states(self) -> dict[str, int]:
        rows = self.deployment.query(
            "SELECT state, count(*) FROM task_instance WHERE dag_id = :dag_id AND run_id = :run_id GROUP BY state",
            dag_id=self.dag_id,
            run_id=self.run_id,
        )
        return {str(state): int(count) for state, count in rows}

    def tries(self) -> Counter[int]:
        rows = self.deployment.query(
            "SELECT try_number FROM task_instance WHERE dag_id = :dag_id AND run_id = :run_id",
            dag_id=self.dag_id,
            run_id=self.run_id,
        )
        return Counter(int(try_number) for (try_number,) in rows)

    def count_creates(self) -> None:
        """The creates sent, and those HeyGen answered with the replay of an earlier one (same key)."""
        create_path = CREATE_PATHS[self.generation]
        self.figures.update(
            creates_sent=len(self.emulator.requests(method="POST", path=create_path)),
            idempotent_replays=len(self.emulator.idempotent_replays(path=create_path)),
        )

    def count_videos(self) -> None:
        """Videos per row: the paid renders."""
        per_row = Counter(row_of_title(str(video.get("title") or "")) for video in self.emulator.videos())
        per_row.pop(None, None)
        self.figures.update(
            rows_with_a_video=len(per_row),
            videos_created=sum(per_row.values()),
            rows_paid_twice=sum(1 for count in per_row.values() if count > 1),
            extra_videos=sum(count - 1 for count in per_row.values()),
            videos_per_row=dict(sorted(Counter(per_row.values()).items())),
            tries=dict(sorted(self.tries().items())),
            task_states=self.states(),
        )


def in_flight_rows(posts: list[LoggedRequest], now: float) -> set[int]:
    """The rows whose create arrived less than ``CREATE_DELAY_SECONDS`` before ``now``: not answered yet."""
    rows = (row_of(post) for post in posts if post.timestamp > now - CREATE_DELAY_SECONDS)
    return {row for row in rows if row is not None}


def row_of(post: LoggedRequest) -> int | None:
    body = post.json if isinstance(post.json, dict) else {}
    return row_of_title(str(body.get("title") or ""))


def row_of_title(title: str) -> int | None:
    prefix, _, row = title.rpartition(" row ")
    return int(row) if prefix.startswith("drill ") and row.isdigit() else None


@contextmanager
def sampling_memory(deployment: DistributedDeployment, interval: float = 2.0) -> Iterator[list[int]]:
    """Yields ``[peak]``: the most memory (PSS) the Airflow components used while the block ran."""
    peak = [deployment.memory_bytes()]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval):
            peak[0] = max(peak[0], deployment.memory_bytes())

    sampler = threading.Thread(target=sample, name="memory-sampler", daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        stop.set()
        sampler.join(timeout=interval * 5)
