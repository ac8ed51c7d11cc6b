# Two commands: `make demo` (set up + run the main job) and `make test` (set up + run every test).
# Set-up is idempotent: a private uv bootstraps once, then `uv sync --frozen` installs exactly uv.lock.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .recpipeline/tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced

.PHONY: setup browser demo test test-fast lint airflow clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): $(UV) uv.lock pyproject.toml
	UV_PYTHON_DOWNLOADS=never $(UV) sync --frozen --python $(PYTHON)
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/recpipeline demo

# The browser test drives the system Chromium (Debian package) with Playwright; without it that test skips
# and says why. Installing needs root and Debian's package registry.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; }; } || \
	  echo "note: chromium could not be installed; the browser test will skip (it says why)"

test: setup browser
	$(VENV)/bin/pytest -p no:cacheprovider

test-fast: setup
	$(VENV)/bin/pytest -m "not slow"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check --preview --select AIR dags/

airflow: setup
	$(VENV)/bin/python -m recpipeline.standalone

clean:
	rm -rf $(VENV) .recpipeline
