"""
Names that moved in issue 28 still import from their old modules, with a DeprecationWarning naming the new
home: the answer parser and the render-failure rules out of ``heygen_provider.exceptions``, and
``heygen_provider.generations`` renamed ``heygen_provider.api_versions``.
"""

from __future__ import annotations

import importlib
import warnings

import pytest

import heygen_provider.exceptions

#: Old module, name there, new module, name there.
MOVED = [
    ("heygen_provider.exceptions", "parse_response", "heygen_provider.hooks.answers", "parse_response"),
    ("heygen_provider.exceptions", "error_class_for_status", "heygen_provider.hooks.answers", "error_class_for_status"),
    ("heygen_provider.exceptions", "REQUEST_IN_PROGRESS", "heygen_provider.hooks.answers", "REQUEST_IN_PROGRESS"),
    ("heygen_provider.exceptions", "LEGACY_SUCCESS_CODE", "heygen_provider.hooks.answers", "LEGACY_SUCCESS_CODE"),
    ("heygen_provider.exceptions", "render_error", "heygen_provider.models.event", "render_error"),
    (
        "heygen_provider.exceptions",
        "DETERMINISTIC_RENDER_CODES",
        "heygen_provider.models.event",
        "DETERMINISTIC_RENDER_CODES",
    ),
    ("heygen_provider.exceptions", "VIDEO_URL_CHECKS", "heygen_provider.models.status", "VIDEO_URL_CHECKS"),
    (
        "heygen_provider.exceptions",
        "missing_video_url_error",
        "heygen_provider.models.status",
        "missing_video_url_error",
    ),
    ("heygen_provider.generations", "V3_OPTIONS", "heygen_provider.vocabulary", "V3_OPTIONS"),
    ("heygen_provider.generations", "GENERATIONS", "heygen_provider.api_versions", "API_BY_VERSION"),
    ("heygen_provider.generations", "ApiGeneration", "heygen_provider.api_versions", "HeyGenApi"),
    ("heygen_provider.generations", "V3", "heygen_provider.api_versions", "V3"),
    ("heygen_provider.generations", "LEGACY", "heygen_provider.api_versions", "LEGACY"),
    ("heygen_provider.generations", "MAX_BULK_IDS", "heygen_provider.api_versions", "MAX_BULK_IDS"),
    ("heygen_provider.generations", "MAX_URL_IDS_LENGTH", "heygen_provider.api_versions", "MAX_URL_IDS_LENGTH"),
    ("heygen_provider.generations", "MAX_BULK_ID_LENGTH", "heygen_provider.api_versions", "MAX_BULK_ID_LENGTH"),
    ("heygen_provider.generations", "takes_in_bulk", "heygen_provider.api_versions", "takes_in_bulk"),
    ("heygen_provider.generations", "bulk_groups", "heygen_provider.api_versions", "bulk_groups"),
    ("heygen_provider.generations", "check_url_length", "heygen_provider.api_versions", "check_url_length"),
]


@pytest.mark.parametrize(("old_module", "old_name", "new_module", "new_name"), MOVED)
def test_a_moved_name_still_imports_from_its_old_module_and_warns(
    old_module: str, old_name: str, new_module: str, new_name: str
) -> None:
    old = importlib.import_module(old_module)
    with pytest.warns(
        DeprecationWarning,
        match=rf"{old_module}\.{old_name} is deprecated: import {new_name} from {new_module} instead",
    ):
        value = getattr(old, old_name)
    assert value is getattr(importlib.import_module(new_module), new_name)


def test_the_from_import_statement_of_a_moved_name_warns() -> None:
    # The import statements are what is tested, so they sit in the test.
    with pytest.warns(DeprecationWarning, match="heygen_provider.hooks.answers"):
        from heygen_provider.exceptions import parse_response
    with pytest.warns(DeprecationWarning, match="heygen_provider.api_versions"):
        from heygen_provider.generations import GENERATIONS
    assert parse_response(200, b'{"data": {"video_id": "v-1"}}') == {"video_id": "v-1"}
    assert GENERATIONS["v3"].create_video == "/v3/videos"


def test_the_exception_classes_import_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in heygen_provider.exceptions.__all__:
            getattr(heygen_provider.exceptions, name)


@pytest.mark.parametrize("module", ["heygen_provider.exceptions", "heygen_provider.generations"])
def test_a_name_that_never_existed_is_still_an_attribute_error(module: str) -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        getattr(importlib.import_module(module), "no_such_name")  # noqa: B009 (a name that does not exist)
