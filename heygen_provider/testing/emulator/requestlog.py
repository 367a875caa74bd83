"""The request log tests assert on (for example: exactly one POST for one video)."""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any


def fingerprint(secret: str) -> str:
    """A short, one-way fingerprint of a key or token, so the log never holds the secret itself.

    :param secret: the API key or token.
    """
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


@dataclass(slots=True)
class LoggedRequest:
    """One request the emulator answered (admin requests are not logged).

    :param method: the HTTP method.
    :param path: the path, without the query.
    :param query: the query parameters.
    :param status: the HTTP status answered, or ``None`` when the connection was dropped.
    :param timestamp: when it arrived (the emulator's clock, seconds since the epoch).
    :param authenticated: whether its credentials were accepted; ``None`` where none are needed (media).
    :param credential: ``x-api-key``, ``bearer`` or ``None``: which credential it carried.
    :param key_fingerprint: :func:`fingerprint` of that credential, or ``None``.
    :param json: the decoded JSON body of a POST (the raw text if it was not JSON), else ``None``;
        for a multipart upload, one object per part with its ``name``, ``filename``, ``content_type``,
        ``size`` and, for a plain field, ``value`` (a file's bytes are never kept).
    :param fault: the fault injected into the answer, if any.
    :param video_id: the video created or asked about, if any (for a replayed create, the video the
        first request created).
    :param idempotency_key: the ``Idempotency-Key`` header of a v3 mutation, as sent (also when it
        was refused as malformed).
    :param idempotent_replay: the answer is the replay of an earlier answer to the same key: nothing
        was done.
    :param bulk_ids: for ``GET /v3/videos/statuses``, every id asked about (``video_ids`` then
        ``batch_ids``, in order); ``None`` for other requests.
    """

    method: str
    path: str
    query: dict[str, str]
    status: int | None
    timestamp: float
    authenticated: bool | None
    credential: str | None
    key_fingerprint: str | None
    json: Any = None
    fault: str | None = None
    video_id: str | None = None
    idempotency_key: str | None = None
    idempotent_replay: bool = False
    bulk_ids: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the admin API."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LoggedRequest:
        """Read the admin API's JSON form back.

        :param values: the JSON object.
        """
        return cls(**values)


class RequestLog:
    """The newest requests, oldest first.

    :param limit: how many are kept; older ones are forgotten so a long benchmark cannot exhaust memory.
    """

    def __init__(self, limit: int) -> None:
        self.entries: deque[LoggedRequest] = deque(maxlen=limit)

    def record(self, entry: LoggedRequest) -> None:
        """Add a request.

        :param entry: the request.
        """
        self.entries.append(entry)

    def select(
        self,
        method: str | None = None,
        path: str | None = None,
        video_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> list[LoggedRequest]:
        """The logged requests matching every filter given.

        :param method: the HTTP method.
        :param path: the exact path.
        :param video_id: the video created or asked about, bulk status calls that asked about it included.
        :param idempotency_key: the ``Idempotency-Key`` sent.
        """
        return [
            entry
            for entry in self.entries
            if (method is None or entry.method == method.upper())
            and (path is None or entry.path == path)
            and (
                video_id is None
                or entry.video_id == video_id
                or (entry.bulk_ids is not None and video_id in entry.bulk_ids)
            )
            and (idempotency_key is None or entry.idempotency_key == idempotency_key)
        ]

    def clear(self) -> None:
        """Forget every request."""
        self.entries.clear()
