# One entry point for people and CI. `make test` is what .ci/run calls and what the README shows.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON_VERSION ?= 3.11
UV_VERSION ?= 0.13.9
VENV ?= .venv
LOCK ?= constraints.txt
FLOOR_VENV ?= .venv-airflow-3.1
FLOOR_LOCK ?= constraints-airflow-3.1.txt
PYTEST_ARGS ?=
# CI's log shows the ten slowest tests of each suite, so the time `make test` takes can be kept down.
PYTEST_DURATIONS ?= --durations=10

UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(shell python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/uv
endif

.PHONY: help uv venv venv-floor servers lint typecheck test test-unit test-floor bench-smoke demo airflow-ui docs screenshots bench lock clean

help:  ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

uv:
	@test -x "$(UV)" || python3 -m pip install --quiet "uv==$(UV_VERSION)"

# The environment is rebuilt only when the lock or pyproject.toml changes.
$(VENV)/.installed: $(LOCK) pyproject.toml | uv
	"$(UV)" venv --quiet --allow-existing --python $(PYTHON_VERSION) $(VENV)
	"$(UV)" pip install --quiet --python $(VENV)/bin/python -r $(LOCK)
	"$(UV)" pip install --quiet --python $(VENV)/bin/python --no-deps -e .
	touch $@

$(FLOOR_VENV)/.installed: $(FLOOR_LOCK) pyproject.toml | uv
	"$(UV)" venv --quiet --allow-existing --python $(PYTHON_VERSION) $(FLOOR_VENV)
	"$(UV)" pip install --quiet --python $(FLOOR_VENV)/bin/python -r $(FLOOR_LOCK)
	"$(UV)" pip install --quiet --python $(FLOOR_VENV)/bin/python --no-deps -e .
	touch $@

venv: $(VENV)/.installed  ## Build .venv from the lock (newest Airflow)

venv-floor: $(FLOOR_VENV)/.installed

servers:  ## Install PostgreSQL and Redis (Debian packages) for the distributed deployment tests, when missing
	@bash tests/deployment/install-servers.sh

lint: venv  ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv  ## mypy
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy docs/screenshots/take_screenshots.py

test-unit: venv servers  ## The test suite on the newest Airflow
	$(VENV)/bin/python -m pytest $(PYTEST_DURATIONS) $(PYTEST_ARGS)

test-floor: venv-floor  ## The test suite on the floor, Airflow 3.1
	$(FLOOR_VENV)/bin/python -m pytest -m "not deployment" $(PYTEST_DURATIONS) $(PYTEST_ARGS)

# After the suites: fails when a benchmark crashes or measures nothing, never on a goal a noisy figure misses.
# Writes bench/results/test-runs/smoke.json (ignored by git); committed figures and plots stay as they are.
bench-smoke: venv  ## Every benchmark at its quick size, checked (a few minutes)
	$(VENV)/bin/python bench/run_all.py --smoke

test: lint typecheck docs test-unit test-floor bench-smoke  ## Everything CI runs: lint, types, the suite on Airflow 3.3 and 3.1, the benchmark smoke

docs: venv  ## Build the documentation site (warnings are errors)
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

# Not part of `make test`: it needs Chromium and takes about five minutes. The PNGs are committed.
screenshots: venv  ## Retake the campaign guide's screenshots (docs/_static/screenshots/) in a real Airflow deployment
	@bash docs/screenshots/install-chromium.sh
	$(VENV)/bin/python docs/screenshots/take_screenshots.py

demo: venv  ## Run heygen_data_to_video end to end against the local emulator (or your real connection)
	$(VENV)/bin/python example_dags/_demo.py --output demo-output

airflow-ui: venv  ## Start a local Airflow UI with the example DAGs and the emulator (no key, no credits); Ctrl-C stops it
	$(VENV)/bin/python example_dags/_airflow_ui.py

bench: venv  ## Run the benchmarks (under 10 minutes) and write bench/results/
	$(VENV)/bin/python bench/run_all.py

lock: uv  ## Re-resolve both locks after changing dependencies
	echo 'apache-airflow>=3.3,<3.4' > .lock-latest.in
	echo 'apache-airflow>=3.1,<3.2' > .lock-floor.in
	"$(UV)" pip compile --quiet pyproject.toml .lock-latest.in --extra dev --extra screenshots --python-version $(PYTHON_VERSION) --no-header --no-annotate -o $(LOCK)
	"$(UV)" pip compile --quiet pyproject.toml .lock-floor.in --extra dev --extra screenshots --python-version $(PYTHON_VERSION) --no-header --no-annotate -o $(FLOOR_LOCK)
	rm -f .lock-latest.in .lock-floor.in

clean:  ## Remove built environments and caches
	rm -rf $(VENV) $(FLOOR_VENV) .pytest_cache .mypy_cache .ruff_cache docs/_build
