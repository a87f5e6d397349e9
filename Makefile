# `make run` starts the bot, `make test` runs the whole test suite; both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint check demo bench clean catalogs venv lock
BENCH_STAMP := $(VENV)/.installed-bench
# Exact versions with hashes, made from pyproject.toml's ranges by `make lock` (uv pip compile).
LOCKS := requirements/runtime.txt requirements/dev.txt requirements/build.txt
LOCK_TOOLS := $(VENV)-lock-tools
UV_COMPILE = $(LOCK_TOOLS)/bin/uv pip compile --quiet --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command 'make lock'

$(STAMP): pyproject.toml $(LOCKS)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.txt -r requirements/build.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

# After changing dependencies in pyproject.toml: refresh the lock files, commit them with it.
lock:
	test -x $(LOCK_TOOLS)/bin/uv || { $(PYTHON) -m venv $(LOCK_TOOLS) \
		&& $(LOCK_TOOLS)/bin/python -m pip install --quiet 'uv>=0.5'; }
	$(UV_COMPILE) pyproject.toml -o requirements/runtime.txt
	$(UV_COMPILE) pyproject.toml --extra dev -o requirements/dev.txt
	$(UV_COMPILE) requirements/build.in -o requirements/build.txt

run: $(STAMP)
	$(PY) -m bot $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff, mypy, and the layer contract (lint-imports reads [tool.importlinter] in pyproject.toml).
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check bot cogs tests bench
	$(PY) -m mypy --strict bot cogs tests bench
	$(VENV)/bin/lint-imports --no-cache --no-logo

clean:
	rm -rf $(VENV) $(LOCK_TOOLS) .mypy_cache .pytest_cache .ruff_cache

demo: $(STAMP)
	$(PY) -m tests.demo

# Gather every text from the code into bot/locales/messages.pot and merge it into each .po.
catalogs: $(STAMP)
	$(PY) -m tests.catalogs --update

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PY) -m bench $(BENCH_ARGS)
