"""``make demo``'s progress lines: one when the renders or the stored files change, none before either."""

from __future__ import annotations

import pytest

from example_dags._demo import progress_line


@pytest.mark.parametrize(
    ("renders", "stored", "line"),
    [
        ({}, 0, None),
        ({"pending": 4}, 0, "renders: 4 pending"),
        ({"processing": 2, "completed": 2}, 0, "renders: 2 completed, 2 processing"),
        ({"completed": 4}, 3, "renders: 4 completed; videos stored: 3"),
        ({}, 2, "videos stored: 2"),
    ],
    ids=["nothing-yet", "submitted", "rendering", "storing", "real-service-stored"],
)
def test_progress_line(renders: dict[str, int], stored: int, line: str | None) -> None:
    assert progress_line(renders, stored) == line


def test_only_the_named_third_party_deprecations_are_silenced() -> None:
    import warnings

    import starlette.exceptions

    from example_dags._demo import silence_third_party_deprecations

    def shown(category: type[Warning], module: str) -> bool:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            silence_third_party_deprecations()
            warnings.warn_explicit("old", category, filename=f"{module}.py", lineno=1, module=module)
        return bool(caught)

    # Starlette has this category (and FastAPI's test client raises it) from 1.0, the lock of Airflow 3.3.
    starlette_deprecation = getattr(starlette.exceptions, "StarletteDeprecationWarning", None)
    if starlette_deprecation is not None:
        assert not shown(starlette_deprecation, "fastapi.testclient")
    assert not shown(DeprecationWarning, "airflow._shared.module_loading.file_discovery")
    # The provider's own deprecations, and other modules' and categories, still show.
    assert shown(DeprecationWarning, "heygen_provider.connection")
    assert shown(DeprecationWarning, "fastapi.routing")
    assert shown(UserWarning, "airflow._shared.module_loading.file_discovery")
