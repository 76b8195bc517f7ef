# These commands do all the set-up on a fresh machine:
#   make demo   installs into .venv, starts the offline sandbox, crawls, writes data/*.json
#   make test   installs into .venv (with test servers) and runs the test suite
#   make bench  installs into .venv and runs the benchmark suite (ARGS=--quick: a smoke run)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

demo: install
	$(BIN)/python scripts/offline_demo.py $(ARGS)

test: install-test
	$(BIN)/ruff check xhs_spider tests scripts benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m benchmarks $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
