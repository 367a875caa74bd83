"""
The floor plan holds: every runtime module sits on a layer of ``docs/contributing.rst``, imports only from
its own layer or below, and no runtime import cycle exists, not even one hidden in a function.

The layer table is read from the page itself, so the page and the code cannot drift apart.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
PACKAGE = REPOSITORY / "heygen_provider"
CONTRIBUTING = REPOSITORY / "docs" / "contributing.rst"
#: The emulator and pytest plugin stand apart: they may import the runtime, never the other way round.
APART = "heygen_provider.testing"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPOSITORY).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def runtime_modules() -> dict[str, Path]:
    return {
        module_name(path): path for path in sorted(PACKAGE.rglob("*.py")) if not module_name(path).startswith(APART)
    }


def _is_type_checking_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(module: str, source: str, is_package: bool, known: Iterable[str]) -> set[str]:
    """
    The provider modules ``module`` imports when it runs: at module level and inside functions, but not
    under ``if TYPE_CHECKING:`` and not inside a module-level ``__getattr__`` (a deprecation shim that
    forwards a moved name to its new home).

    :param known: every runtime module's name, to tell ``from package import module`` from a name.
    """
    known = set(known)
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking_block(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.FunctionDef) and child.name == "__getattr__" and node is tree:
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(module, child, is_package)
                for alias in child.names:
                    submodule = f"{target}.{alias.name}"
                    found.add(submodule if submodule in known else target)
            visit(child)

    tree = ast.parse(source)
    visit(tree)
    return {name for name in found if name.startswith("heygen_provider") and name != module}


def import_graph() -> dict[str, set[str]]:
    modules = runtime_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        imported = imports_of(module, path.read_text(), path.name == "__init__.py", modules)
        # ``import heygen_provider.x`` also runs ``heygen_provider/__init__``; that edge is never a cycle
        # worth reporting, as the package face imports nothing of its own.
        graph[module] = {name for name in imported if name in modules}
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = lowest[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                lowest[node] = min(lowest[node], lowest[target])
            elif target in on_stack:
                lowest[node] = min(lowest[node], index[target])
        if lowest[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def documented_layers(text: str) -> dict[str, int]:
    """
    The layer table of ``docs/contributing.rst``: rows ``<layer number>  <module or package>, ...``
    between the ``.. layers-start`` and ``.. layers-end`` comments.
    """
    match = re.search(r"^\.\. layers-start\n(.*?)^\.\. layers-end", text, re.MULTILINE | re.DOTALL)
    assert match, "docs/contributing.rst has no layer table between '.. layers-start' and '.. layers-end'"
    layers: dict[str, int] = {}
    for line in match.group(1).splitlines():
        row = re.match(r"^\s*(\d+)\s+(.+)$", line)
        if not row:
            continue
        for name in re.findall(r"``([\w./]+)``", row.group(2)):
            dotted = name.strip("/").removesuffix(".py").replace("/", ".")
            layers["heygen_provider" if dotted == "__init__" else f"heygen_provider.{dotted}"] = int(row.group(1))
    return layers


def layer_of(module: str, layers: Mapping[str, int]) -> int | None:
    """The layer of the longest documented name that is the module or a package holding it."""
    # The package face (``heygen_provider``) holds only itself, not every module below it.
    candidates = [name for name in layers if module == name or (name != PACKAGE.name and module.startswith(name + "."))]
    return layers[max(candidates, key=len)] if candidates else None


def upward_imports(graph: Mapping[str, set[str]], layers: Mapping[str, int]) -> list[str]:
    problems = []
    for module, imported in sorted(graph.items()):
        own = layer_of(module, layers)
        for target in sorted(imported):
            theirs = layer_of(target, layers)
            if own is not None and theirs is not None and theirs > own:
                problems.append(f"{module} (layer {own}) imports {target} (layer {theirs})")
    return problems


# The checks themselves, on small made-up graphs: each must catch what it is for.


def test_a_cycle_through_three_modules_is_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_a_tree_has_no_cycle() -> None:
    assert cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_an_import_inside_a_function_counts_but_type_checking_and_shims_do_not() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from heygen_provider.hooks import heygen\n"
        "def later():\n    from heygen_provider.triggers.heygen import Trigger\n"
        "def __getattr__(name):\n    from heygen_provider.campaign import budget\n"
    )
    known = {"heygen_provider.hooks.heygen", "heygen_provider.triggers.heygen", "heygen_provider.campaign.budget"}
    assert imports_of("heygen_provider.models.event", source, False, known) == {"heygen_provider.triggers.heygen"}


def test_relative_imports_resolve_to_the_module_they_name() -> None:
    known = {"heygen_provider.hooks.answers", "heygen_provider.hooks"}
    source = "from .answers import parse\nfrom . import answers\n"
    assert imports_of("heygen_provider.hooks.heygen", source, False, known) == {"heygen_provider.hooks.answers"}


def test_an_upward_import_is_named_with_both_layers() -> None:
    layers = {"heygen_provider.models": 1, "heygen_provider.hooks": 3}
    graph = {"heygen_provider.models.event": {"heygen_provider.hooks.heygen"}}
    assert upward_imports(graph, layers) == [
        "heygen_provider.models.event (layer 1) imports heygen_provider.hooks.heygen (layer 3)"
    ]


# The real code.


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


@pytest.fixture(scope="module")
def layers() -> dict[str, int]:
    return documented_layers(CONTRIBUTING.read_text())


def test_the_runtime_has_no_import_cycle(graph: dict[str, set[str]]) -> None:
    assert cycles(graph) == []


def test_every_runtime_module_has_a_documented_layer(graph: dict[str, set[str]], layers: dict[str, int]) -> None:
    assert [module for module in graph if layer_of(module, layers) is None] == []


def test_every_documented_name_exists(layers: dict[str, int]) -> None:
    modules = runtime_modules()
    assert [name for name in layers if not any(layer_of(module, {name: 0}) == 0 for module in modules)] == []


def test_no_module_imports_from_a_layer_above_its_own(graph: dict[str, set[str]], layers: dict[str, int]) -> None:
    assert upward_imports(graph, layers) == []


def test_the_runtime_never_imports_the_testing_package() -> None:
    modules = runtime_modules()
    offenders = [
        module
        for module, path in modules.items()
        if any(
            name.startswith(APART) for name in imports_of(module, path.read_text(), path.name == "__init__.py", modules)
        )
    ]
    assert offenders == []


def test_every_file_on_the_documented_path_exists() -> None:
    match = re.search(r"^\.\. path-start\n(.*?)^\.\. path-end", CONTRIBUTING.read_text(), re.MULTILINE | re.DOTALL)
    assert match, "docs/contributing.rst has no submit-to-result path between '.. path-start' and '.. path-end'"
    named = re.findall(r"``([\w/]+\.py)``", match.group(1))
    assert len(named) >= 8
    assert [name for name in named if not (PACKAGE / name).is_file()] == []
