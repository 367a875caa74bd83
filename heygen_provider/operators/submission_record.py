"""
Where a task remembers the video it submitted, so a retry re-attaches instead of paying again.

* Airflow 3.3+: the task state store (``context["task_state_store"]``), made for resumable jobs.
* Airflow 3.1 and 3.2: an Airflow Variable per task instance, deleted when the task succeeds. It lives
  in the metadata database, so it survives worker crashes, retries and re-deferrals alike.

The record holds the video id and a fingerprint of the request: a retry re-attaches only to a video of
the same request, so a task cleared after its inputs changed renders the new request.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from airflow.sdk import Context

STATE_STORE_KEY = "heygen_video"
VARIABLE_PREFIX = "heygen_provider.submission."
# Variable keys are limited to 250 characters in the metadata database.
_MAX_VARIABLE_KEY = 250


@dataclass(frozen=True)
class Submission:
    """A video this task submitted, and the fingerprint of the request it submitted."""

    video_id: str
    request_fingerprint: str

    def as_json(self) -> dict[str, str]:
        return {"video_id": self.video_id, "request_fingerprint": self.request_fingerprint}


def request_fingerprint(payload: dict[str, Any]) -> str:
    """A stable digest of a request body."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class SubmissionRecord(Protocol):
    """Remembers one task instance's submission across its tries."""

    description: str

    def load(self) -> Submission | None: ...

    def save(self, submission: Submission) -> None: ...

    def forget(self) -> None: ...


class StateStoreRecord:
    """Airflow 3.3+: the task state store, kept after success for inspection (Airflow's own retention)."""

    description = "the task state store"

    def __init__(self, store: Any) -> None:
        self._store = store

    def load(self) -> Submission | None:
        return _parse(self._store.get(STATE_STORE_KEY))

    def save(self, submission: Submission) -> None:
        self._store.set(STATE_STORE_KEY, submission.as_json())

    def forget(self) -> None:
        # The store is scoped to this task instance and expires by Airflow's retention settings.
        return None


class VariableRecord:
    """Airflow 3.1 and 3.2: one Airflow Variable per task instance, deleted on success."""

    description = "an Airflow Variable"

    def __init__(self, key: str) -> None:
        self.key = key

    def load(self) -> Submission | None:
        from airflow.sdk import Variable

        return _parse(Variable.get(self.key, default=None, deserialize_json=True))

    def save(self, submission: Submission) -> None:
        from airflow.sdk import Variable

        Variable.set(
            self.key,
            submission.as_json(),
            description="HeyGen video submitted by this task instance; removed when the task succeeds.",
            serialize_json=True,
        )

    def forget(self) -> None:
        from airflow.sdk import Variable

        Variable.delete(self.key)


def submission_record_for(context: Context) -> SubmissionRecord:
    """The best record this Airflow offers for the running task instance."""
    store = context.get("task_state_store")
    if store is not None:
        return StateStoreRecord(store)
    ti = context["ti"]
    # Hashed as a JSON list: joining the parts with dots would let dag "a.b" task "c" and dag "a"
    # task "b.c" share a key. The DAG id stays readable for people browsing Variables.
    identity = json.dumps([ti.dag_id, ti.task_id, getattr(ti, "map_index", -1), ti.run_id])
    digest = hashlib.sha256(identity.encode()).hexdigest()
    return VariableRecord(f"{VARIABLE_PREFIX}{ti.dag_id[: _MAX_VARIABLE_KEY - 100]}.{digest}")


def _parse(value: Any) -> Submission | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, dict) and value.get("video_id"):
        return Submission(str(value["video_id"]), str(value.get("request_fingerprint", "")))
    return None
