"""
Where a task remembers the video it submitted, so a retry re-attaches instead of paying again.

* Airflow 3.3+: the task state store (``context["task_state_store"]``), made for resumable jobs.
* Airflow 3.1 and 3.2: an Airflow Variable per task instance. It lives in the metadata database, so it
  survives worker crashes, retries and re-deferrals alike.

Both are kept after the task succeeds, on every version: a try that fails after ``execute`` returned
(``post_execute``, the XCom push, a lost worker) and a task cleared after its success re-attach to the
video it paid for, as Airflow 3.3's own resumable jobs do, instead of paying again once HeyGen's 24-hour
idempotency window has passed. A new render on purpose is a new DAG run (or a changed request).

The record holds the video id, a fingerprint of the request and the HeyGen asset ids of the photos it
uploaded: a retry re-attaches only to a video of the same request (so a task cleared after its inputs
changed renders the new request) and sends no photo twice.

:func:`~heygen_provider.idempotency.idempotency_key` derives the key every v3 create carries from the
same identity, so a create repeated by an HTTP retry, a task retry or a worker killed before the record
was written is rendered once by HeyGen; ``idempotency_key`` and ``request_fingerprint`` import from
here too.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from airflow.sdk import Variable

from heygen_provider.idempotency import idempotency_key as idempotency_key  # noqa: PLC0414 (re-exported: users import it here)
from heygen_provider.idempotency import request_fingerprint as request_fingerprint  # noqa: PLC0414

if TYPE_CHECKING:
    from airflow.sdk import Context

_log = logging.getLogger(__name__)

STATE_STORE_KEY = "heygen_video"
VARIABLE_PREFIX = "heygen_provider.submission."
# Variable keys are limited to 250 characters in the metadata database.
_MAX_VARIABLE_KEY = 250


@dataclass(frozen=True)
class Submission:
    """
    What this task submitted: the video (``None`` while only photos were uploaded), the fingerprint of
    the request, and the asset id of each uploaded ``image_path``.
    """

    video_id: str | None
    request_fingerprint: str
    assets: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"video_id": self.video_id, "request_fingerprint": self.request_fingerprint, "assets": self.assets}


class SubmissionRecord(Protocol):
    """Remembers one task instance's submission across its tries."""

    description: str

    def load(self) -> Submission | None: ...

    def save(self, submission: Submission) -> None: ...

    def forget(self) -> None: ...


class StateStoreRecord:
    """Airflow 3.3+: the task state store, scoped to the task instance (Airflow's own retention)."""

    description = "the task state store"

    def __init__(self, store: Any) -> None:
        self._store = store

    def load(self) -> Submission | None:
        return _parse(self._store.get(STATE_STORE_KEY))

    def save(self, submission: Submission) -> None:
        self._store.set(STATE_STORE_KEY, submission.as_json())

    def forget(self) -> None:
        self._store.delete(STATE_STORE_KEY)


class VariableRecord:
    """Airflow 3.1 and 3.2: one Airflow Variable per task instance, kept after success."""

    description = "an Airflow Variable"

    def __init__(self, key: str) -> None:
        self.key = key

    def load(self) -> Submission | None:
        submission = _parse(Variable.get(self.key, default=None, deserialize_json=True))
        if submission is None:
            # Airflow 3.1 logs the lookup's miss at error level ("Variable not found"), which on a first
            # try would read as a failure.
            _log.info("No earlier submission recorded in Variable %s: this is the first submit.", self.key)
        return submission

    def save(self, submission: Submission) -> None:
        Variable.set(
            self.key,
            submission.as_json(),
            description="HeyGen video submitted by this task instance: clearing the task re-attaches to it. "
            "Delete it to let a cleared task render again.",
            serialize_json=True,
        )

    def forget(self) -> None:
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


def forget_submission(context: Context) -> None:
    """
    Delete the running task instance's record, so that its next try (a clear) renders again instead of
    re-attaching. The operators never call it: use it, say, in your own ``on_success_callback`` to bring
    back "a cleared success pays again", knowing that a try failing after ``execute`` returned then pays
    again too once HeyGen's 24-hour idempotency window has passed.
    """
    with contextlib.suppress(Exception):
        submission_record_for(context).forget()


def _parse(value: Any) -> Submission | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, dict) or not (value.get("video_id") or value.get("assets")):
        return None
    assets = value.get("assets")
    assets = assets if isinstance(assets, dict) else {}
    return Submission(
        str(value["video_id"]) if value.get("video_id") else None,
        str(value.get("request_fingerprint", "")),
        {str(path): str(asset_id) for path, asset_id in assets.items()},
    )
