"""
Autodoc for the pydantic models: a table of fields instead of pydantic's generated signature.

A pydantic model's signature repeats every field with its ``Annotated`` metadata (``MinLen(1)``,
validator functions, ...), which reads badly and cannot be cross-referenced. This extension hides that
signature and the ``model_config`` attribute, and appends a table of the fields (name, type, default)
read from ``model_fields``, so the reference always matches the models.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from typing import Any

from sphinx.application import Sphinx


def _is_model(obj: Any) -> bool:
    try:
        from pydantic import BaseModel
    except ImportError:  # pragma: no cover - pydantic is a runtime dependency
        return False
    return inspect.isclass(obj) and issubclass(obj, BaseModel) and obj is not BaseModel


def format_annotation(annotation: Any) -> str:
    """A short, readable type: ``list[VideoInput]``, ``float | None``, ``'avatar' | 'talking_photo'``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return format_annotation(args[0])
    if origin is typing.Literal:
        return " | ".join(repr(arg) for arg in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(format_annotation(arg) for arg in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(format_annotation(arg) for arg in args)}]"
    if annotation is type(None):
        return "None"
    if inspect.isclass(annotation):
        return annotation.__name__
    return re.sub(r"\b(?:[a-z_][\w]*\.)+", "", str(annotation))


def _constraints(metadata: list[Any]) -> str:
    rules = []
    for item in metadata:
        for attribute, text in (
            ("min_length", "at least {} item(s) or character(s)"),
            ("max_length", "at most {} item(s) or character(s)"),
            ("gt", "above {}"),
            ("ge", "at least {}"),
            ("lt", "below {}"),
            ("le", "at most {}"),
        ):
            value = getattr(item, attribute, None)
            if value is not None:
                rules.append(text.format(value))
    return "; ".join(rules)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("`", "\\`").replace("|", "\\|")


def _fields_table(model: Any) -> list[str]:
    from pydantic_core import PydanticUndefined

    lines = ["", ".. list-table:: Fields", "   :header-rows: 1", "   :widths: 25 40 35", ""]
    lines += ["   * - Field", "     - Type", "     - Default"]
    for name, info in model.model_fields.items():
        kind = format_annotation(info.annotation)
        rules = _constraints(info.metadata)
        if info.is_required():
            default = "required"
        elif info.default_factory is not None:
            default = "computed"
        elif info.default is PydanticUndefined:
            default = "—"
        else:
            default = f"``{info.default!r}``"
        lines += [
            f"   * - ``{name}``",
            f"     - ``{kind}``" + (f" ({_escape(rules)})" if rules else ""),
            f"     - {default}",
        ]
    return [*lines, ""]


def process_signature(  # noqa: PLR0917 - Sphinx's event signature
    app: Sphinx, what: str, name: str, obj: Any, options: Any, signature: str | None, return_annotation: str | None
) -> tuple[str, str | None] | None:
    if what == "class" and _is_model(obj):
        return "", None
    return None


#: Names of every model field seen so far: documented in the table, so not again as attributes.
_FIELD_NAMES: set[str] = set()


def process_docstring(  # noqa: PLR0917 - Sphinx's event signature
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    if what == "class" and _is_model(obj) and obj.model_fields:
        _FIELD_NAMES.update(obj.model_fields)
        lines.extend(_fields_table(obj))


def skip_member(  # noqa: PLR0917 - Sphinx's event signature
    app: Sphinx, what: str, name: str, obj: Any, skip: bool, options: Any
) -> bool | None:
    # Names a module imports (pydantic's Field, BaseModel, ...) are documented where they are defined.
    module = getattr(obj, "__module__", None)
    imported = module and not module.startswith("heygen_provider")
    if what == "module" and (inspect.isclass(obj) or inspect.isroutine(obj)) and imported:
        return True
    if name in ("model_config", "model_fields", "model_computed_fields"):
        return True
    if what == "class" and name in _FIELD_NAMES and not callable(obj) and not isinstance(obj, property):
        return True
    return None


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("autodoc-process-signature", process_signature)
    app.connect("autodoc-process-docstring", process_docstring)
    app.connect("autodoc-skip-member", skip_member)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
