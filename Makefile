# Haven's set-up commands. Each target creates .venv and installs what it needs when
# missing, so a fresh clone needs nothing but Python 3.11 and a C compiler (and, for the
# browser tests, Debian's Chromium, which `make test` installs when run as root).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Reinstall when the project's declared dependencies or its C extension change.
DEPS   := pyproject.toml setup.py src/haven/index/_mihcore.c
CHROMIUM := /usr/bin/chromium

.PHONY: demo test test-postgres bench lint clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-%: $(DEPS) | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[$*]"
	@touch $@

# Debian's Chromium for the browser tests (never a browser downloaded by a test tool).
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "install Debian's chromium package for the browser tests" >&2; exit 1; fi; }

# The demo serves plain HTTP on 127.0.0.1, so its cookies cannot be HTTPS-only.
demo: $(VENV)/.installed-demo
	HAVEN_SECURE_COOKIES=$${HAVEN_SECURE_COOKIES:-false} $(BIN)/haven demo

# The whole suite on SQLite; then, when HAVEN_TEST_DATABASE_URL names a PostgreSQL
# database (.ci/run starts one), the whole suite again on PostgreSQL.
test: $(VENV)/.installed-dev browser
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest
	@if [ -n "$$HAVEN_TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; fi

test-postgres: $(VENV)/.installed-dev browser
	HAVEN_DATABASE_URL="$$HAVEN_TEST_DATABASE_URL" $(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

bench: $(VENV)/.installed-bench $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build src/*.egg-info src/haven/index/*.so
