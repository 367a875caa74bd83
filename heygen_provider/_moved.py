"""
Names that moved: the old path keeps importing each one, with a DeprecationWarning that names the new one.

Tolerated until the provider's next major release; then the old names and modules go.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any


def moved_to(old_module: str, new_homes: str | Mapping[str, str]) -> Callable[[str], Any]:
    """
    A module ``__getattr__`` for names that left ``old_module``: each is read from its new home, with a
    :class:`DeprecationWarning` saying where to import it from now.

    The new home is imported only when an old name is asked for, by name: new homes may sit on a higher
    layer than the old module (see ``docs/contributing.rst``) or import it themselves.

    :param old_module: the dotted path users import today, named in the warning.
    :param new_homes: the module every name now lives in (for a module that moved whole), or a mapping of
        each old name to ``"new.module.NewName"`` (for names that moved or were renamed one by one).
    """

    def home_of(name: str) -> tuple[str, str] | None:
        if isinstance(new_homes, str):
            # Dunder look-ups (__path__, __wrapped__, ...) come from import machinery and tools, not users.
            return None if name.startswith("__") else (new_homes, name)
        new_path = new_homes.get(name)
        return None if new_path is None else (new_path.rpartition(".")[0], new_path.rpartition(".")[2])

    def __getattr__(name: str) -> Any:
        home = home_of(name)
        if home is None:
            raise AttributeError(f"module {old_module!r} has no attribute {name!r}")
        new_module, new_name = home
        value = getattr(importlib.import_module(new_module), new_name)
        warnings.warn(
            f"{old_module}.{name} is deprecated: import {new_name} from {new_module} instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return value

    return __getattr__
