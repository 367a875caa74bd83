"""``make airflow-ui``'s settings: a login of its own, kept across starts, and nothing beyond loopback."""

from __future__ import annotations

import stat
from pathlib import Path

from example_dags._airflow_ui import USERNAME, login_password, ui_config, ui_environment


def test_the_password_is_made_once_private_and_kept(tmp_path: Path) -> None:
    first = login_password(tmp_path)
    assert len(first) >= 16
    assert login_password(tmp_path) == first
    assert stat.S_IMODE((tmp_path / "passwords.json").stat().st_mode) == 0o600
    other = tmp_path / "other"
    other.mkdir()
    assert login_password(other) != first, "each home has its own password"


def test_a_login_is_required_and_the_connection_test_enabled(tmp_path: Path) -> None:
    config = ui_config(tmp_path)
    assert config["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"
    assert config["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == f"{USERNAME}:admin"
    assert config["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(tmp_path / "passwords.json")
    assert config["AIRFLOW__CORE__TEST_CONNECTION"] == "Enabled"
    # A secret of this home's own, the same at every start, not the deployment tests' fixed one.
    assert config["AIRFLOW__API_AUTH__JWT_SECRET"] == ui_config(tmp_path)["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert "deployment-test" not in config["AIRFLOW__API_AUTH__JWT_SECRET"]


def test_the_examples_store_locally_and_poll_quickly(tmp_path: Path) -> None:
    environment = ui_environment(tmp_path)
    assert environment["HEYGEN_OUTPUT_URI"] == (tmp_path / "videos").as_uri()
    assert float(environment["HEYGEN_POLL_INTERVAL"]) <= 5
    assert (tmp_path / "videos").is_dir()
