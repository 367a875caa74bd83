"""The docs pull code from example_dags/ by start and end markers: every marker they use must exist, once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
DOCS = REPOSITORY / "docs"
EXAMPLE_DAGS = REPOSITORY / "example_dags"

_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. literalinclude::[ \t]*(?P<path>\S+)[ \t]*$")
_OPTION = re.compile(r"^[ \t]*:(?P<name>[\w-]+):[ \t]*(?P<value>.*?)[ \t]*$")


@dataclass(frozen=True)
class Include:
    page: Path
    line: int
    target: Path
    start_after: str | None
    end_before: str | None

    def __str__(self) -> str:
        return f"{self.page.relative_to(REPOSITORY)}:{self.line} -> {self.target.relative_to(REPOSITORY)}"


def _pages() -> list[Path]:
    return sorted(path for path in DOCS.rglob("*.rst") if "_build" not in path.parts)


def _includes() -> list[Include]:
    found = []
    for page in _pages():
        lines = page.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            match = _DIRECTIVE.match(line)
            if not match:
                continue
            options: dict[str, str] = {}
            for option_line in lines[index + 1 :]:
                option = _OPTION.match(option_line)
                if not option:
                    break
                options[option["name"]] = option["value"]
            path = match["path"]
            # Sphinx reads "/x" relative to the docs folder and "x" relative to the page's folder.
            target = (DOCS / path.lstrip("/")) if path.startswith("/") else (page.parent / path)
            found.append(
                Include(page, index + 1, target.resolve(), options.get("start-after"), options.get("end-before"))
            )
    return found


INCLUDES = _includes()


def test_the_docs_include_example_code() -> None:
    assert any(include.target.is_relative_to(EXAMPLE_DAGS) for include in INCLUDES)


@pytest.mark.parametrize("include", INCLUDES, ids=str)
def test_every_marker_exists_exactly_once(include: Include) -> None:
    assert include.target.is_file(), f"{include}: the included file does not exist"
    text = include.target.read_text(encoding="utf-8")
    for option, marker in (("start-after", include.start_after), ("end-before", include.end_before)):
        if marker is not None:
            count = text.count(marker)
            assert count == 1, f"{include}: :{option}: {marker!r} occurs {count} times, expected exactly once"
    if include.start_after is not None and include.end_before is not None:
        assert text.index(include.start_after) < text.index(include.end_before), f"{include}: markers out of order"


@pytest.mark.parametrize("example", sorted(EXAMPLE_DAGS.glob("*.py")), ids=lambda path: path.name)
def test_example_markers_come_in_pairs(example: Path) -> None:
    text = example.read_text(encoding="utf-8")
    starts = re.findall(r"\[START (\w+)\]", text)
    ends = re.findall(r"\[END (\w+)\]", text)
    assert sorted(starts) == sorted(ends), f"{example.name}: unmatched START/END markers"
    assert len(set(starts)) == len(starts), f"{example.name}: a marker name is used twice"
