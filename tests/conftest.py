"""Test-session set-up shared by every suite: an isolated AIRFLOW_HOME, set before Airflow is imported."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_REPOSITORY = Path(__file__).resolve().parents[1]

# Airflow reads its configuration at import time, so this must run before any test module imports it.
# A per-session home keeps the tests off ~/airflow and away from any real triggerer's database.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="heygen-provider-tests-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(_REPOSITORY / "example_dags"))
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")
