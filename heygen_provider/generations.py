"""
Deprecated, tolerated until the next major release: :mod:`heygen_provider.api_versions` holds HeyGen's
APIs, one class each.

Every public name of this module still imports from here, with a DeprecationWarning naming its new home:
``GENERATIONS`` is :data:`~heygen_provider.api_versions.API_BY_VERSION`, ``ApiGeneration`` is
:class:`~heygen_provider.api_versions.HeyGenApi`, ``V3_OPTIONS`` lives in :mod:`heygen_provider.vocabulary`,
the rest keep their names in :mod:`heygen_provider.api_versions`.
"""

from __future__ import annotations

from heygen_provider._moved import moved_to

#: Each name of this module, and its home.
_MOVED = {
    "V3_OPTIONS": "heygen_provider.vocabulary.V3_OPTIONS",
    "GENERATIONS": "heygen_provider.api_versions.API_BY_VERSION",
    "ApiGeneration": "heygen_provider.api_versions.HeyGenApi",
    "V3": "heygen_provider.api_versions.V3",
    "LEGACY": "heygen_provider.api_versions.LEGACY",
    "MAX_BULK_IDS": "heygen_provider.api_versions.MAX_BULK_IDS",
    "MAX_URL_IDS_LENGTH": "heygen_provider.api_versions.MAX_URL_IDS_LENGTH",
    "MAX_BULK_ID_LENGTH": "heygen_provider.api_versions.MAX_BULK_ID_LENGTH",
    "takes_in_bulk": "heygen_provider.api_versions.takes_in_bulk",
    "bulk_groups": "heygen_provider.api_versions.bulk_groups",
    "check_url_length": "heygen_provider.api_versions.check_url_length",
}


__getattr__ = moved_to(__name__, _MOVED)
