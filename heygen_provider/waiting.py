"""
Deprecated, kept until the next major release: waiting on a render from a task now lives in the
trigger module, :mod:`heygen_provider.triggers.heygen` (:func:`~heygen_provider.triggers.heygen.status_trigger`,
:func:`~heygen_provider.triggers.heygen.execution_deadline`, :func:`~heygen_provider.triggers.heygen.wait_for_event`).
Importing those names from here still works, with a :class:`DeprecationWarning`.
"""

from __future__ import annotations

import warnings
from typing import Any

from heygen_provider.triggers import heygen as _trigger_module

#: The names this module exported, all now in :mod:`heygen_provider.triggers.heygen`.
_MOVED = frozenset({"status_trigger", "execution_deadline", "wait_for_event"})


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        warnings.warn(
            f"heygen_provider.waiting.{name} is deprecated: import it from heygen_provider.triggers.heygen",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(_trigger_module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
