"""
heygen_provider.idempotency: HeyGen's key rule, the task instance's key, the request fingerprint and the
photo upload keys. The keys are pinned: a key HeyGen has already seen must stay the same across an upgrade,
or a retry after it pays for a second render. The names still import from where they lived before.
"""

from __future__ import annotations

import ast
import importlib
import re
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import heygen_provider
from heygen_provider.exceptions import HeyGenRequestValidationError
from heygen_provider.idempotency import (
    IDEMPOTENCY_KEY_MAX_LENGTH,
    check_idempotency_key,
    completion_key,
    idempotency_key,
    request_fingerprint,
    upload_key,
)

TASK_INSTANCE = SimpleNamespace(
    dag_id="heygen_weekly", run_id="scheduled__2026-01-05T00:00:00+00:00", task_id="render", map_index=3
)
PAYLOAD = {"video_inputs": [{"a": 1}], "title": "North"}
RENDER_KEY = "airflow-heygen:" + "a" * 64


class TestKeysStayTheSame:
    """Values computed by the code before the move (operators/submission_record.py, hooks/assets.py)."""

    def test_the_fingerprint(self) -> None:
        assert request_fingerprint(PAYLOAD) == "5483b420b999cae12d4f37bb19149f9d7f0282182cd9d2ccfb7485595223089a"

    def test_the_task_instance_key(self) -> None:
        context: Any = {"ti": TASK_INSTANCE}
        fingerprint = request_fingerprint(PAYLOAD)
        assert (
            idempotency_key(context, fingerprint)
            == "airflow-heygen:1dc2e151963ea07de07dcbdc4d04657219670ca26b33d19df2b2ab481a90594d"
        )
        assert (
            idempotency_key(context, fingerprint, "vid-9")
            == "airflow-heygen:851aadab9baaa42f28791766e06cda54516ca4ec91f10a83f0930bae8065c15f"
        )

    def test_the_upload_keys(self) -> None:
        photo = f"{RENDER_KEY}:asset:988e9bace50b2ae0f4519077aabea421"
        assert upload_key(RENDER_KEY, "/data/north.png") == photo
        assert completion_key(photo) == f"{photo}:complete"
        assert (
            upload_key("x" * 250, "/data/north.png")
            == "086d4a1c293bde318dc1fec9a21b9d828ba7637bcbdc5cdb42662fd84b733e9f:asset:988e9bace50b2ae0f4519077aabea421"
        )


@pytest.mark.parametrize("render_key", ["k", RENDER_KEY, "x" * IDEMPOTENCY_KEY_MAX_LENGTH])
def test_every_upload_key_is_one_heygen_accepts(render_key: str) -> None:
    upload = upload_key(render_key, "s3://bucket/" + "deep/" * 60 + "face.png")
    check_idempotency_key(upload)
    check_idempotency_key(completion_key(upload))


@pytest.mark.parametrize("key", ["", "a" * (IDEMPOTENCY_KEY_MAX_LENGTH + 1), "has space", "é"])
def test_a_key_heygen_would_refuse_is_refused_naming_the_rule(key: str) -> None:
    with pytest.raises(HeyGenRequestValidationError, match=r"idempotency_key: must be 1 to 255 characters"):
        check_idempotency_key(key)


def test_the_old_import_paths_still_give_the_same_names() -> None:
    from heygen_provider import idempotency
    from heygen_provider.hooks import heygen as hook_module
    from heygen_provider.operators import submission_record

    assert hook_module.IDEMPOTENCY_KEY_MAX_LENGTH == idempotency.IDEMPOTENCY_KEY_MAX_LENGTH
    assert hook_module.IDEMPOTENCY_KEY is idempotency.IDEMPOTENCY_KEY
    assert hook_module.check_idempotency_key is idempotency.check_idempotency_key
    assert submission_record.idempotency_key is idempotency.idempotency_key
    assert submission_record.request_fingerprint is idempotency.request_fingerprint


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        ("heygen_provider.operators.heygen", "VideoRequestRender", "heygen_provider.operators.render.PreparedRender"),
        ("heygen_provider.operators.template", "TemplateRender", "heygen_provider.operators.render.PreparedRender"),
        (
            "heygen_provider.operators.heygen",
            "TEMPLATE_FILE_FIELDS",
            "heygen_provider.operators.heygen.JINJA_FILE_FIELDS",
        ),
    ],
)
def test_a_renamed_operator_name_still_imports_and_warns(module: str, old: str, new: str) -> None:
    new_module, _, new_name = new.rpartition(".")
    with pytest.warns(DeprecationWarning, match=rf"import {new_name} from {re.escape(new_module)} instead"):
        value = getattr(importlib.import_module(module), old)
    assert value is getattr(importlib.import_module(new_module), new_name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError):
            _ = importlib.import_module(module).NoSuchName


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at module level or inside a function, ``TYPE_CHECKING`` ones aside."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_checking = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for statement in block.body
        for node in ast.walk(statement)
    }
    return {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and id(node) not in type_checking
    }


def test_uploading_and_idempotency_import_nothing_above_them() -> None:
    """The hooks <-> assets cycle is gone for good: not even a function-level import closes it again."""
    package = Path(heygen_provider.__file__).parent
    assets = _imported_modules(package / "hooks" / "assets.py")
    assert not {
        name for name in assets if name.startswith(("heygen_provider.hooks.heygen", "heygen_provider.operators"))
    }
    idempotency = {name for name in _imported_modules(package / "idempotency.py") if name.startswith("heygen_provider")}
    assert idempotency <= {"heygen_provider.exceptions"}
