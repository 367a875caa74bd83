"""
The provider's words and defaults, each defined once.

Free of imports beyond the standard library: Airflow reads the connection form (which uses these) while it
discovers providers, and every layer of the provider may import this module without pulling in another.
"""

from __future__ import annotations

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
