"""The index's flow diagram shows the calls the provider makes by default (v3), from the code's own paths."""

from __future__ import annotations

from pathlib import Path

from heygen_provider.api_versions import API_BY_VERSION
from heygen_provider.connection_form import DEFAULT_API_VERSION

INDEX = Path(__file__).resolve().parents[2] / "docs" / "index.rst"


def test_the_index_flow_diagram_shows_the_default_apis_calls() -> None:
    diagram = INDEX.read_text().split(".. flow-diagram:: generate-flow", 1)[1].split("\n\nA minimal DAG", 1)[0]
    boxes = {line.split()[1]: line for line in diagram.splitlines() if line.strip().startswith("box ")}
    default = API_BY_VERSION[DEFAULT_API_VERSION]
    assert f'"POST {default.create_video} ' in boxes["create"]
    assert f'"GET {default.video_status}"' in boxes["status"]
