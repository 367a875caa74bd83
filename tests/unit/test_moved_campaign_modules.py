"""
``heygen_provider.budget`` and ``heygen_provider.notifications.*`` moved to ``heygen_provider.campaign``:
every public name still imports from the old path, is the very same object, and warns where it lives now.
"""

from __future__ import annotations

import importlib
import types
import warnings

import pytest

MOVED = {
    "heygen_provider.budget": "heygen_provider.campaign.budget",
    "heygen_provider.notifications.outcomes": "heygen_provider.campaign.outcomes",
    "heygen_provider.notifications.summary": "heygen_provider.campaign.summary",
    "heygen_provider.notifications.review": "heygen_provider.campaign.review",
}


def public_names(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"
    ]


@pytest.mark.parametrize(("old", "new"), MOVED.items())
def test_every_public_name_imports_from_the_old_module_and_warns_naming_the_new_one(old: str, new: str) -> None:
    names = public_names(new)
    assert len(names) > 3, f"{new} should have public names"
    old_module = importlib.import_module(old)
    new_module = importlib.import_module(new)
    for name in names:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = getattr(old_module, name)
        assert value is getattr(new_module, name), name
        assert [warning.category for warning in caught] == [DeprecationWarning], name
        assert str(caught[0].message) == f"{old}.{name} is deprecated: import {name} from {new} instead"
        # Points at the line that imported the old name, not at the shim.
        assert caught[0].filename == __file__


def test_from_import_of_an_old_path_warns() -> None:
    with pytest.warns(DeprecationWarning, match=r"import preflight_campaign from heygen_provider\.campaign\.budget"):
        from heygen_provider.budget import preflight_campaign  # noqa: F401


@pytest.mark.parametrize("old", MOVED)
def test_a_name_that_never_existed_is_still_an_import_error(old: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImportError):
            exec(f"from {old} import no_such_name", {})
