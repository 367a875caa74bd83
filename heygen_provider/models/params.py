"""Operator parameters that arrive as text after templating, turned back into JSON values."""

from __future__ import annotations

import ast
import json
from typing import Any

from heygen_provider.exceptions import HeyGenRequestValidationError


def parse_structured_param(name: str, value: Any, *, allow_text: bool = False) -> Any:
    """
    Return ``value`` as a list or dict when templating left it as text.

    A ``.json`` template file, or a Jinja expression rendered without ``render_template_as_native_obj``,
    gives a string; JSON and Python literals are both read back.

    :param name: the parameter, named in the error.
    :param allow_text: keep a string that is not JSON (``dimension="1080p"``).
    :raises HeyGenRequestValidationError: when a string is neither JSON nor a Python literal.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text.startswith(("[", "{")):
        if allow_text:
            return value
        raise _unreadable(name, f"must be a list or object, or JSON text of one (got {text[:40]!r})")
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = _literal(name, text)
    except RecursionError:
        raise _unreadable(name, "is JSON text nested too deeply to read") from None
    if not isinstance(parsed, (list, dict)):  # "{1, 2}" reads as a set
        raise _unreadable(name, f"must be a list or object, or JSON text of one (got a {type(parsed).__name__})")
    return parsed


def _literal(name: str, text: str) -> Any:
    try:
        return ast.literal_eval(text)
    # "{{1}}" (a template left unrendered) is a set of a set: TypeError; deep nesting: RecursionError.
    except (ValueError, SyntaxError, TypeError, RecursionError):
        raise _unreadable(name, "is text that is neither valid JSON nor a Python literal") from None


def _unreadable(name: str, rule: str) -> HeyGenRequestValidationError:
    return HeyGenRequestValidationError([f"{name}: {rule}"])
