"""
The provider's words and defaults, each defined once.

Free of imports beyond the standard library: Airflow reads the connection form (which uses these) while it
discovers providers, and every layer of the provider may import this module without pulling in another.
"""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Literal

#: The connection id hooks, operators and sensors use when none is given.
DEFAULT_CONN_ID = "heygen_default"

#: HeyGen's APIs: ``v3`` (current, the default) and ``legacy`` (its create call was removed on 2026-10-31).
ApiVersion = Literal["v3", "legacy"]
API_VERSIONS: tuple[ApiVersion, ...] = ("v3", "legacy")
DEFAULT_API_VERSION: ApiVersion = "v3"

#: The request's top-level options only v3 understands (also the operator's parameters of that name).
V3_OPTIONS = (
    "engine",
    "motion_prompt",
    "expressiveness",
    "aspect_ratio",
    "resolution",
    "output_format",
    "remove_background",
    "fit",
)

#: Seconds between two status checks of one render; renders take 5 to 20 minutes.
DEFAULT_POLL_INTERVAL = 30.0

#: How long a task waits for one render to finish before it counts as timed out.
DEFAULT_WAIT_TIMEOUT = timedelta(hours=1)


class RenderStatus(str, enum.Enum):
    """
    The status words of a render, wherever the provider reports one: a trigger event, a task result, a
    campaign row. Each member is its word (``RenderStatus.SUCCESS == "success"``) and is written as that
    word in XCom, trigger events, logs and the summary, so a plain word an older version of the provider
    stored (an event, a result) reads back equal.
    """

    #: HeyGen's statuses, read from its answers (:class:`~heygen_provider.models.status.VideoStatus`).
    QUEUED = "queued"
    PROCESSING = "processing"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    #: A deadline passed before the render ended.
    TIMEOUT = "timeout"
    #: HeyGen could not be asked (a bad key, an unknown video, a broken connection).
    ERROR = "error"
    #: A campaign row whose status could not be read.
    UNKNOWN = "unknown"
    #: A campaign row whose task failed before HeyGen accepted its video.
    NOT_SUBMITTED = "not_submitted"
    #: A campaign row a reviewer rejected, or nobody reviewed in time.
    REJECTED = "rejected"
    #: A campaign row approved in review and stored at the output location.
    PUBLISHED = "published"

    def __str__(self) -> str:
        # The word itself in str() and f-strings, on every Python (3.12 changed a mixed-in enum's format()).
        return str(self.value)
