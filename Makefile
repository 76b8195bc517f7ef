# These commands do all the set-up on a fresh machine:
#   make demo   installs into .venv, starts the offline sandbox, crawls, writes data/*.json
#   make test   installs into .venv (with test servers) and runs the test suite
#   make bench  installs into .venv and runs the benchmark suite (ARGS=--quick: a smoke run)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Scrapyd for tests/test_scrapyd.py, in its own environment as docs/deploy.md
# sets it up: Scrapyd, setuptools<81 (its runner imports pkg_resources) and the
# project's dependencies, but not the project (jobs must run the deployed egg).
SCRAPYD_VENV := .venv-scrapyd
SCRAPYD_REQUIREMENTS := scrapyd==1.6.0 'setuptools<81'

.PHONY: demo test bench install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[report]'

install-test: $(BIN)/python $(SCRAPYD_VENV)/installed
	$(BIN)/pip install --quiet -e '.[test]'

# Redone only when pyproject.toml changes.
$(SCRAPYD_VENV)/installed: pyproject.toml scripts/runtime_requirements.py
	[ -x $(SCRAPYD_VENV)/bin/python ] || $(PYTHON) -m venv $(SCRAPYD_VENV)
	$(PYTHON) scripts/runtime_requirements.py > $(SCRAPYD_VENV)/requirements.txt
	$(SCRAPYD_VENV)/bin/pip install --quiet $(SCRAPYD_REQUIREMENTS) -r $(SCRAPYD_VENV)/requirements.txt
	touch $@

demo: install
	$(BIN)/python scripts/offline_demo.py $(ARGS)

test: install-test
	$(BIN)/ruff check xhs_spider sandbox tests scripts benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m benchmarks $(ARGS)

clean:
	rm -rf $(VENV) $(SCRAPYD_VENV) build *.egg-info .pytest_cache
