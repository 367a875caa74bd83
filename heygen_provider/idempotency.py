"""
Idempotency: HeyGen's ``Idempotency-Key`` rule, and the keys and fingerprints this provider derives.

* :func:`check_idempotency_key`: a key HeyGen would refuse is refused before any call.
* :func:`request_fingerprint`: what identifies a render's request, so a retry re-attaches only to a
  video of the same request.
* :func:`idempotency_key`: the key every v3 create of a task instance carries, the same across HTTP
  retries, task retries, worker crashes and triggerer restarts.
* :func:`upload_key` and :func:`completion_key`: the keys of a render's photo uploads, derived from the
  render's, so a retried upload creates one asset.

Pure functions: no HTTP, no Airflow import at run time.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from heygen_provider.exceptions import HeyGenRequestValidationError

if TYPE_CHECKING:
    from airflow.sdk import Context

#: HeyGen's rule for an ``Idempotency-Key``: 1 to 255 characters of ``[A-Za-z0-9_:.-]``.
IDEMPOTENCY_KEY_MAX_LENGTH = 255
IDEMPOTENCY_KEY = re.compile(rf"[A-Za-z0-9_:.\-]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}")


def check_idempotency_key(key: str | None) -> None:
    """
    Refuse an ``Idempotency-Key`` HeyGen would refuse, before any call.

    An empty key matters most: it sends no header yet would mark the create safe to re-send, and a
    re-sent keyless create after a 5xx is a second paid render.

    :param key: the key, or ``None`` for none.
    :raises HeyGenRequestValidationError: naming ``idempotency_key`` and HeyGen's rule.
    """
    if key is None or (isinstance(key, str) and IDEMPOTENCY_KEY.fullmatch(key)):
        return
    shown = repr(key) if len(repr(key)) <= 80 else repr(key)[:77] + "..."
    raise HeyGenRequestValidationError(
        [f"idempotency_key: must be 1 to 255 characters of letters, digits, _ : . and - (got {shown})"]
    )


def request_fingerprint(payload: dict[str, Any]) -> str:
    """A stable digest of a request body."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_key(context: Context, fingerprint: str, replaces_video_id: str | None = None) -> str:
    """
    The ``Idempotency-Key`` of this task instance's render of the request with ``fingerprint``.

    The same across HTTP retries, task retries, worker crashes and triggerer restarts; a deliberate new
    render (after ``replaces_video_id`` failed) gets a new one. HeyGen takes 1 to 255 characters of
    ``[A-Za-z0-9_:.-]``.

    :param context: the running task's context (its task instance names the render).
    :param fingerprint: :func:`request_fingerprint` of the request.
    :param replaces_video_id: the earlier try's video this render replaces, if any.
    """
    ti = context["ti"]
    identity = json.dumps(
        [ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1), fingerprint, replaces_video_id or ""]
    )
    return f"airflow-heygen:{hashlib.sha256(identity.encode()).hexdigest()}"


def upload_key(render_key: str, path: str) -> str:
    """
    The ``Idempotency-Key`` of the upload of photo ``path`` for the render keyed ``render_key``.

    :param render_key: the render's :func:`idempotency_key`.
    :param path: the photo's ``image_path``.
    """
    return _derived_key(render_key, f"asset:{hashlib.sha256(path.encode()).hexdigest()[:32]}")


def completion_key(upload: str) -> str:
    """The ``Idempotency-Key`` of the call completing a direct upload keyed ``upload``."""
    return _derived_key(upload, "complete")


def _derived_key(key: str, suffix: str) -> str:
    """
    ``key:suffix``, within HeyGen's 255 characters: a long key is replaced by its digest, so a key the
    create accepts never makes an upload key HeyGen refuses.
    """
    derived = f"{key}:{suffix}"
    if len(derived) <= IDEMPOTENCY_KEY_MAX_LENGTH:
        return derived
    return f"{hashlib.sha256(key.encode()).hexdigest()}:{suffix}"
