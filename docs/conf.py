"""Sphinx configuration of the airflow-provider-heygen documentation (``make docs``)."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
REPOSITORY = DOCS.parent
sys.path[:0] = [str(DOCS / "_ext"), str(REPOSITORY)]

# autodoc imports Airflow: keep its home (config file, logs) inside the build folder, away from ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", str(DOCS / "_build" / "airflow-home"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from heygen_provider import __version__  # noqa: E402

# sphinx-autodoc-typehints still calls an API Sphinx 10 removes; that is its concern, not a docs problem.
warnings.filterwarnings("ignore", message=".*set_application' is deprecated", module="sphinx_autodoc_typehints.*")

project = "airflow-provider-heygen"
author = "airflow-provider-heygen developers"
copyright = "airflow-provider-heygen developers, Apache License 2.0"
version = release = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "sphinx_autodoc_typehints",
    # Local extensions in docs/_ext: everything generated from the code at build time.
    "pydantic_models",
    "flowdiagram",
    "markdown_include",
    "provider_tables",
    "benchmarks",
]

root_doc = "index"
source_suffix = {".rst": "restructuredtext"}
# _generated holds files written during the build (diagrams, the fault matrix), included by other pages.
exclude_patterns = ["_build", "_generated", "**/.*", "*.md"]
templates_path: list[str] = []

# Warnings are errors (``-W`` in ``make docs``), and every cross-reference must resolve.
nitpicky = True
# Intersphinx needs the network, which CI does not have: names from Airflow, the standard library and
# other packages cannot be linked. Ignore exactly those, never our own names.
nitpick_ignore_regex = [
    (r"py:.*", r"(airflow|aiohttp|requests|urllib3|pydantic|pydantic_core|typing_extensions|jinja2)(\..*)?"),
    (r"py:.*", r"(_?pytest|annotated_types)(\..*)?"),
    # Private helpers are not documented on purpose; a public class may still name one as its base.
    (r"py:class", r"heygen_provider(\.\w+)*\._\w+"),
    (r"py:.*", r"(collections\.abc|datetime|enum|asyncio|contextlib|pathlib|typing|weakref|dataclasses)\..*"),
    (r"py:.*", r"(Context|ObjectStoragePath|TaskInstanceKey|BaseOperator|BaseSensorOperator|BaseHook)"),
    (r"py:.*", r"(BaseTrigger|TriggerEvent|BaseOperatorLink|PokeReturnValue|Self|Path|timedelta|Callable)"),
    (r"py:.*", r"(Sequence|Mapping|Iterable|Iterator|AsyncIterator|Awaitable|TaskState|Enum|Protocol)"),
    (r"py:.*", r"(ConfigDict|BaseModel|FieldInfo|ClientSession|Session|Response|MonkeyPatch|Future)"),
    (r"py:.*", r"(AbstractEventLoop|PurePosixPath|ComputedFieldInfo|AirflowException|AirflowFailException)"),
    (r"py:.*", r"(SerializerFunctionWrapHandler|ValidationError|Literal|Annotated|_io\..*|datetime)"),
]
# Short names in the provider's docstrings that Sphinx cannot resolve from where they are written.
nitpick_ignore = [
    ("py:meth", "HeyGenHook.get_ui_field_behaviour"),
    ("py:data", "heygen_provider.testing.emulator.faults.FAULT_NAMES"),
    ("py:class", "heygen_provider.testing.emulator.settings.PlanLimits"),
    ("py:meth", "update_settings"),
    ("py:data", "Ellipsis"),
    ("py:data", "UI_FIELD_BEHAVIOUR"),
]
# sphinx-autodoc-typehints cannot evaluate some third-party TYPE_CHECKING imports and pydantic's own
# forward references; they concern Airflow's and pydantic's types, not ours.
suppress_warnings = ["sphinx_autodoc_typehints.guarded_import", "sphinx_autodoc_typehints.forward_reference"]

# -- autodoc ----------------------------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_preserve_defaults = True
typehints_fully_qualified = False
always_document_param_types = False
typehints_document_rtype = True

# -- HTML -------------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"airflow-provider-heygen {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "sidebar_hide_name": False,
    "light_css_variables": {"color-brand-primary": "#4f46e5", "color-brand-content": "#4338ca"},
    "dark_css_variables": {"color-brand-primary": "#a5b4fc", "color-brand-content": "#c7d2fe"},
    "navigation_with_keys": True,
}
pygments_style = "friendly"
pygments_dark_style = "monokai"

FAULT_MATRIX = DOCS / "_generated" / "fault_matrix.rst"
FAULT_MATRIX_PLACEHOLDER = """\
.. This placeholder was written by docs/conf.py because the reliability suite has not run in this checkout.

.. note::

   The fault matrix is produced by the reliability tests of the test suite, which write
   ``docs/_generated/fault_matrix.rst``. Run them, then ``make docs``, to see the table of every
   injected fault and its observed outcome here.
"""


def write_fault_matrix_placeholder(app: Any) -> None:
    """The reliability page includes ``_generated/fault_matrix.rst``; write a note when the suite has not."""
    if not FAULT_MATRIX.exists():
        FAULT_MATRIX.parent.mkdir(parents=True, exist_ok=True)
        FAULT_MATRIX.write_text(FAULT_MATRIX_PLACEHOLDER, encoding="utf-8")


def setup(app: Any) -> None:
    app.connect("builder-inited", write_fault_matrix_placeholder)
