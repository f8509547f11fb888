# Two commands do all the set-up on a fresh machine:
#   make demo   analyse the bundled sample monolith and say where the report is
#   make test   run every test (the same command CI runs through .ci/run)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint bench openwebui clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@scripts/check-python.sh $(PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@scripts/install-graphviz.sh
	@touch $@

demo: setup
	$(BIN)/carveout analyze samples/shopwise --out reports/shopwise

lint: setup
	$(BIN)/ruff check src tests scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

openwebui: setup
	scripts/run_openwebui.sh

bench: setup
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python scripts/benchmark.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
