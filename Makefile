# Two commands do all the set-up on a fresh machine:
#   make demo   installs into .venv, starts the offline sandbox, crawls, writes data/*.json
#   make test   installs into .venv (with test servers) and runs the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-test clean

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

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
