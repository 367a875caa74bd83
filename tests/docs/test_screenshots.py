"""
The campaign guide shows the screenshots ``make screenshots`` takes: each one the script writes is
committed, small, and shown (and linked) by the guide, and no image there is left over from an old name.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

REPOSITORY = Path(__file__).resolve().parents[2]
DOCS = REPOSITORY / "docs"
GUIDE = DOCS / "campaign-pipeline.rst"
SCRIPT = DOCS / "screenshots" / "take_screenshots.py"
#: Committed images stay small: cropped to what they show.
MAX_BYTES = 400 * 1024
_FIGURE = re.compile(r"^\.\. (?:figure|image):: /(?P<path>\S+)\n(?P<options>(?:[ \t]+.*\n)*)", re.MULTILINE)
_TARGET = re.compile(r"^[ \t]+:target: (?P<path>\S+)$", re.MULTILINE)


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("take_screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _figures() -> dict[str, str | None]:
    """The guide's images under the screenshots folder, each with the file its ``:target:`` links to."""
    figures = {}
    for match in _FIGURE.finditer(GUIDE.read_text(encoding="utf-8")):
        target = _TARGET.search(match["options"])
        figures[match["path"]] = target["path"] if target else None
    return figures


def test_every_screenshot_is_committed_small_and_shown_by_the_guide() -> None:
    script = _script()
    output = Path(script.OUTPUT)
    assert output == DOCS / "_static" / "screenshots"
    figures = _figures()
    for name in script.SCREENSHOTS.values():
        image = output / name
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{image} is not a PNG"
        assert image.stat().st_size <= MAX_BYTES, f"{image} is {image.stat().st_size:,} bytes; crop it"
        shown = image.relative_to(DOCS).as_posix()
        assert shown in figures, f"{GUIDE.name} does not show {shown}"
        # The figure links its full-size image, which the page scales down.
        assert figures[shown] == shown, f"{shown} links {figures[shown]}"


def test_no_screenshot_is_left_over() -> None:
    script = _script()
    taken = set(script.SCREENSHOTS.values())
    committed = {path.name for path in Path(script.OUTPUT).glob("*.png")}
    assert committed == taken, f"not taken by {SCRIPT.name}: {sorted(committed - taken)}"
