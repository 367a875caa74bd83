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
        raise HeyGenRequestValidationError(
            [f"{name}: must be a list or object, or JSON text of one (got {text[:40]!r})"]
        )
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise HeyGenRequestValidationError(
            [f"{name}: is text that is neither valid JSON nor a Python literal"]
        ) from None
