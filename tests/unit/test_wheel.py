"""
Installing from the repository, as the README and docs/installation.rst say: ``uv build --wheel`` makes a
wheel that holds every file of the package (``py.typed``, the emulator's media and schema), and installed
on its own it declares the provider to Airflow through the ``apache_airflow_provider`` entry point.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    uv = shutil.which("uv")
    assert uv, "uv is not on PATH: `make venv` installs it"
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out), str(REPOSITORY)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [built] = out.glob("airflow_provider_heygen-*.whl")
    return built


def test_the_wheel_holds_every_file_of_the_package(wheel: Path) -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "heygen_provider"], cwd=REPOSITORY, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "heygen_provider/py.typed" in tracked
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [entry_points] = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
        declared = archive.read(entry_points).decode()
    missing = sorted(set(tracked) - names)
    assert not missing, f"not in the wheel: {missing}"
    assert any(name.startswith("heygen_provider/testing/emulator/assets/") for name in names)
    assert "heygen_provider/testing/emulator/schemas/heygen_v3.json" in names
    assert "[apache_airflow_provider]\nprovider_info = heygen_provider.get_provider_info:get_provider_info" in declared
    assert "heygen-emulator = heygen_provider.testing.emulator.cli:main" in declared


def test_installed_alone_the_wheel_declares_the_provider(wheel: Path, tmp_path: Path) -> None:
    uv = shutil.which("uv")
    assert uv
    target = tmp_path / "site"
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--no-deps", "--python", sys.executable, "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # -S: no site-packages, so only the installed wheel (and the standard library) can answer.
    probe = (
        "import importlib.metadata, importlib.resources, json;"
        "[entry] = importlib.metadata.entry_points(group='apache_airflow_provider');"
        "info = entry.load()();"
        "package = importlib.resources.files('heygen_provider');"
        "print(json.dumps({'name': info['package-name'], 'dist': entry.dist.name, 'file': str(package),"
        " 'typed': package.joinpath('py.typed').is_file(),"
        " 'schema': package.joinpath('testing/emulator/schemas/heygen_v3.json').is_file()}))"
    )
    answer = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        # Not from the repository, whose own heygen_provider/ would be found first.
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = json.loads(answer.stdout)
    assert found["name"] == "airflow-provider-heygen"
    assert found["dist"] == "airflow-provider-heygen"
    assert found["file"].startswith(str(target))
    assert found["typed"] and found["schema"]
