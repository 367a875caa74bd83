"""
Modules that moved: the old path keeps importing every public name, with a DeprecationWarning that
names the new one.

Tolerated until the provider's next major release; then the old modules go.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any


def moved_to(old_module: str, new_module: str) -> Callable[[str], Any]:
    """
    A module ``__getattr__`` for the module ``old_module`` left behind: each name is read from
    ``new_module``, with a :class:`DeprecationWarning` saying where to import it from now.

    :param old_module: the dotted path users import today, named in the warning.
    :param new_module: the dotted path the names live in now.
    """

    def __getattr__(name: str) -> Any:
        # Dunder look-ups (__path__, __wrapped__, ...) come from import machinery and tools, not users.
        if name.startswith("__"):
            raise AttributeError(f"module {old_module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(new_module), name)
        warnings.warn(
            f"{old_module} is deprecated: import {name} from {new_module} instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return value

    return __getattr__
