"""
OpenLineage datasets for what the provider stores, when Airflow's OpenLineage provider is installed.

Names follow OpenLineage's dataset naming: an object store's namespace is ``scheme://bucket`` and the
name is the object's key (``s3://campaigns`` and ``2026-11-24/north.mp4``); a local file's namespace is
``file`` and its name the absolute path (``/data/videos/north.mp4``), as Airflow's own providers name
them. The connection id that ``ObjectStoragePath`` writes into a URI (``s3://aws_default@bucket/...``)
is not part of the name.

The OpenLineage provider is optional: it is imported inside :func:`stored_outputs`, which only its
listener calls, so this module imports without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from heygen_provider.links.heygen import without_connection

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

#: Schemes with more than one spelling, as OpenLineage spells them.
SCHEME_NAMES = {"gcs": "gs", "s3a": "s3", "s3n": "s3", "local": "file"}


def dataset_name(path: str) -> tuple[str, str]:
    """
    The OpenLineage ``(namespace, name)`` of a stored object.

    :param path: an ``ObjectStoragePath`` URI or a local path, e.g. ``s3://aws_default@bucket/key`` or
        ``/data/north.mp4``.
    """
    parts = urlsplit(without_connection(path))
    scheme = SCHEME_NAMES.get(parts.scheme, parts.scheme) or "file"
    if scheme == "file":
        # A local path keeps its leading slash; a file URI with a host names that host.
        return (f"file://{parts.netloc}" if parts.netloc else "file"), parts.path
    return f"{scheme}://{parts.netloc}", parts.path.lstrip("/")


def stored_outputs(paths: Iterable[str | None]) -> OperatorLineage[Any, Any]:
    """
    The lineage of a task that stored ``paths``: one output dataset per stored file, no input.

    :param paths: where the files are (``None`` for a file not stored, which is left out).
    :raises ImportError: when the OpenLineage provider is not installed (its listener, the only caller,
        then does not exist).
    """
    from airflow.providers.common.compat.openlineage.facet import Dataset
    from airflow.providers.openlineage.extractors import OperatorLineage

    outputs = [Dataset(namespace=namespace, name=name) for namespace, name in map(dataset_name, filter(None, paths))]
    return OperatorLineage(outputs=outputs)
