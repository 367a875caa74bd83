"""
Deprecated: :mod:`heygen_provider.api_versions` holds HeyGen's APIs, one class each (issue 28).

Every public name of this module still imports from here, with a DeprecationWarning naming its new home:
``GENERATIONS`` is :data:`~heygen_provider.api_versions.API_BY_VERSION`, ``ApiGeneration`` is
:class:`~heygen_provider.api_versions.HeyGenApi`, ``V3_OPTIONS`` lives in :mod:`heygen_provider.vocabulary`,
the rest keep their names in :mod:`heygen_provider.api_versions`.
"""

from __future__ import annotations

import warnings
from typing import Any

from heygen_provider import api_versions, vocabulary

#: Each name of this module: the module and the name it has there now.
_MOVED = {
    "V3_OPTIONS": (vocabulary, "V3_OPTIONS"),
    "GENERATIONS": (api_versions, "API_BY_VERSION"),
    "ApiGeneration": (api_versions, "HeyGenApi"),
    "V3": (api_versions, "V3"),
    "LEGACY": (api_versions, "LEGACY"),
    "MAX_BULK_IDS": (api_versions, "MAX_BULK_IDS"),
    "MAX_URL_IDS_LENGTH": (api_versions, "MAX_URL_IDS_LENGTH"),
    "MAX_BULK_ID_LENGTH": (api_versions, "MAX_BULK_ID_LENGTH"),
    "takes_in_bulk": (api_versions, "takes_in_bulk"),
    "bulk_groups": (api_versions, "bulk_groups"),
    "check_url_length": (api_versions, "check_url_length"),
}


def __getattr__(name: str) -> Any:
    """A name of this module: taken from its new home, with a DeprecationWarning."""
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    home, new_name = _MOVED[name]
    warnings.warn(
        f"{__name__}.{name} moved to {home.__name__}.{new_name}; import it from there",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(home, new_name)
