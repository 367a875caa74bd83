"""
Names for stored videos that never clash: one folder per DAG run, one file name per row.

A name derived from a row keeps the row's letters in any script (``東京`` stays ``東京``), so two rows
never fold into the same placeholder, and names are compared case-insensitively (after Unicode
normalisation), because S3 keys are case-sensitive but a local folder on macOS or Windows is not.
Dependency-free: DAG files import it when they are parsed.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

#: Room for a suffix and a media extension within the 255 bytes most file systems allow per name.
MAX_STEM_CHARACTERS = 80
_NOT_NAME = re.compile(r"[\W_]+")


def file_stem(label: object) -> str:
    """
    A file name for one row: its letters and digits (any script) in lower case, runs of anything else
    as one ``-``; empty when the label has no letter or digit.

    :param label: the row's label, e.g. its region.
    """
    text = unicodedata.normalize("NFKC", str(label)).casefold()
    return _NOT_NAME.sub("-", text).strip("-")[:MAX_STEM_CHARACTERS].rstrip("-")


def unique_file_stems(labels: Iterable[object], *, fallback: str = "row") -> list[str]:
    """
    One file name per row, in row order, no two equal even on case-insensitive storage: a later row
    whose name is taken gets ``-2``, ``-3``, ...; a row with no letter or digit is ``<fallback>-<n>``
    (its 1-based position).

    :param labels: the rows' labels.
    :param fallback: the name of a row whose label gives none.
    """
    taken: set[str] = set()
    stems = []
    for position, label in enumerate(labels, start=1):
        base = file_stem(label) or f"{fallback}-{position}"
        stem, suffix = base, 1
        while stem.casefold() in taken:
            suffix += 1
            stem = f"{base}-{suffix}"
        taken.add(stem.casefold())
        stems.append(stem)
    return stems


def run_folder(run_id: str, day: str) -> str:
    """
    The folder of one DAG run's files, below the output URI: ``<day>/<run>``, where ``<run>`` is the run
    id made safe for any storage (a readable part and a short hash of the whole id, so two runs, even
    of the same day or with ids that differ only in case or punctuation, never share a folder).

    :param run_id: the DAG run's id (``scheduled__...``, ``manual__...`` or one a user chose).
    :param day: the run's day, ``YYYY-MM-DD``.
    """
    digest = hashlib.sha256(run_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    readable = file_stem(run_id)[:48].rstrip("-")
    return f"{day}/{readable}-{digest}" if readable else f"{day}/{digest}"
