# Haven's set-up commands. Each target creates .venv and installs what it needs when
# missing, so a fresh clone needs nothing but Python 3.11 and a C compiler.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Reinstall when the project's declared dependencies or its C extension change.
DEPS   := pyproject.toml setup.py src/haven/index/_mihcore.c

.PHONY: demo test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-%: $(DEPS) | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[$*]"
	@touch $@

demo: $(VENV)/.installed-demo
	$(BIN)/python -m haven.demo

test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

bench: $(VENV)/.installed-bench $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build src/*.egg-info src/haven/index/*.so
