# These commands do all the set-up on a fresh machine:
#   make demo   installs into .venv, starts the offline sandbox, crawls, writes data/*.json
#   make test   installs into .venv (with test servers) and runs the test suite
#   make check  the fast inner loop: ruff, mypy and every test not marked integration (< 1 min)
#   make bench  installs into .venv and runs the benchmark suite (ARGS=--quick: a smoke run)
#   make lock   compiles requirements/*.lock from pyproject.toml (LOCK_ARGS=--upgrade: newest)
# Every environment is installed from its lock (exact versions, PyPI's hashes),
# then the project without dependencies; only when the lock or pyproject.toml
# changed (the stamp files below). See docs/development.md#installs-and-the-lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP_LOCKED := pip install --quiet --require-hashes -r
# Scrapyd for tests/test_scrapyd.py, in its own environment as docs/deploy.md
# sets it up (requirements/scrapyd.in): Scrapyd, setuptools<81 and the
# project's dependencies, but not the project (jobs must run the deployed egg).
SCRAPYD_VENV := .venv-scrapyd
# uv compiles the locks, from its own environment.
UV_VERSION := 0.13.10
LOCK_VENV := .venv-lock
UV_COMPILE = $(LOCK_VENV)/bin/uv --no-config pip compile --quiet --generate-hashes \
	--no-strip-markers --python-version 3.11 --python-platform linux \
	--custom-compile-command 'make lock' $(LOCK_ARGS)

.PHONY: demo test check bench install install-test lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(VENV)/installed

install-test: $(VENV)/installed-test $(SCRAPYD_VENV)/installed

# An egg-info left in the checkout by an older install shadows the installed
# metadata for everything run from here (stale entry points): removed first.
$(VENV)/installed: requirements/runtime.lock pyproject.toml | $(BIN)/python
	rm -rf xhs_spider.egg-info
	$(BIN)/$(PIP_LOCKED) requirements/runtime.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# The test lock has setuptools: it builds the editable install, nothing fetched.
$(VENV)/installed-test: requirements/test.lock pyproject.toml | $(BIN)/python
	rm -rf xhs_spider.egg-info
	$(BIN)/$(PIP_LOCKED) requirements/test.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(SCRAPYD_VENV)/installed: requirements/scrapyd.lock
	[ -x $(SCRAPYD_VENV)/bin/python ] || $(PYTHON) -m venv $(SCRAPYD_VENV)
	$(SCRAPYD_VENV)/bin/$(PIP_LOCKED) requirements/scrapyd.lock
	touch $@

$(LOCK_VENV)/bin/uv:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet uv==$(UV_VERSION)

# The test environment first: the runtime lock takes its versions, and
# Scrapyd's the runtime's, so every environment runs what the tests ran.
lock: $(LOCK_VENV)/bin/uv
	$(UV_COMPILE) pyproject.toml --extra test -o requirements/test.lock
	$(UV_COMPILE) pyproject.toml --extra report -c requirements/test.lock \
		-o requirements/runtime.lock
	$(UV_COMPILE) pyproject.toml requirements/scrapyd.in -c requirements/runtime.lock \
		-o requirements/scrapyd.lock

demo: install
	$(BIN)/python scripts/offline_demo.py $(ARGS)

LINT = $(BIN)/ruff check xhs_spider sandbox tests scripts benchmarks && $(BIN)/mypy

test: install-test
	$(LINT)
	$(BIN)/python -m pytest

# No test that starts a subprocess, a server of its own or a browser: the
# in-process crawls against the one sandbox of the session stay in.
check: install-test
	$(LINT)
	$(BIN)/python -m pytest -m "not integration"

bench: install
	$(BIN)/python -m benchmarks $(ARGS)

clean:
	rm -rf $(VENV) $(SCRAPYD_VENV) $(LOCK_VENV) build *.egg-info .pytest_cache
