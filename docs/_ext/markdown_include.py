"""
``.. markdown-include:: ../CHANGELOG.md``: show a Markdown file, converted to reStructuredText at build time.

It converts the small subset of Markdown that ``CHANGELOG.md`` uses (headings, paragraphs, bullet
lists with continuation lines, fenced code, ``inline code``, ``**bold**``, ``*emphasis*`` and
``[links](url)``), so the changelog has one source and needs no Markdown parser dependency. Anything
else is passed through as text. The file is a dependency of the page: editing it rebuilds the page.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

HEADING_MARKS = {1: "=", 2: "-", 3: "~", 4: "^"}
_INLINE = re.compile(r"`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)|\*\*([^*]+)\*\*")


def _inline(text: str) -> str:
    """Inline Markdown to inline reStructuredText, keeping markup boundaries valid."""
    out: list[str] = []
    position = 0
    for match in _INLINE.finditer(text):
        out.append(_escape(text[position : match.start()]))
        code, label, url, bold = match.groups()
        if code is not None:
            piece = f"``{code}``"
        elif label is not None:
            piece = f"`{_escape(label)} <{url}>`__"
        else:
            piece = f"**{bold}**"
        before = text[match.start() - 1] if match.start() else " "
        after = text[match.end()] if match.end() < len(text) else " "
        if before.isalnum():
            piece = "\\ " + piece
        if after.isalnum():
            piece += "\\ "
        out.append(piece)
        position = match.end()
    out.append(_escape(text[position:]))
    return "".join(out)


def _escape(text: str) -> str:
    # Characters that start reStructuredText inline markup or references in running text.
    return re.sub(r"([*`|_\\])", r"\\\1", text)


def markdown_to_rst(markdown: str) -> str:
    """Convert the Markdown subset described in the module docstring."""
    out: list[str] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        heading = re.match(r"^(#{1,4})\s+(.*)$", line)
        if heading:
            title = _inline(heading.group(2).strip())
            out += ["", title, HEADING_MARKS[len(heading.group(1))] * max(len(title), 3), ""]
        elif stripped.startswith("```"):
            language = stripped[3:].strip() or "text"
            out += ["", f".. code-block:: {language}", ""]
            index += 1
            while index < len(lines) and not lines[index].strip().startswith("```"):
                out.append(f"   {lines[index]}" if lines[index] else "")
                index += 1
            out.append("")
        elif re.match(r"^\s*[-*]\s+", line):
            indent = len(line) - len(line.lstrip())
            item = re.sub(r"^\s*[-*]\s+", "", line)
            # Continuation lines are indented deeper than the bullet.
            while (
                index + 1 < len(lines) and lines[index + 1].strip() and not re.match(r"^\s*[-*]\s+", lines[index + 1])
            ):
                next_indent = len(lines[index + 1]) - len(lines[index + 1].lstrip())
                if next_indent <= indent:
                    break
                index += 1
                item += " " + lines[index].strip()
            out.append(" " * indent + "- " + _inline(item))
        elif not stripped:
            out.append("")
        else:
            out.append(_inline(stripped))
        index += 1
    return "\n".join(out) + "\n"


class MarkdownInclude(SphinxDirective):
    """Include a Markdown file, converted to reStructuredText."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        relative, path = self.env.relfn2path(self.arguments[0], self.env.docname)
        source = Path(path)
        if not source.is_file():
            raise self.error(f"markdown-include: {self.arguments[0]} not found")
        self.env.note_dependency(relative)
        rst = markdown_to_rst(source.read_text(encoding="utf-8"))
        container = nodes.container()
        nested_parse_with_titles(self.state, StringList(rst.splitlines(), source=str(source)), container)
        return container.children


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("markdown-include", MarkdownInclude)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
