# `make run` starts the bot, `make test` runs the whole test suite; both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint check demo bench clean catalogs
BENCH_STAMP := $(VENV)/.installed-bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m bot $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check bot cogs
	$(PY) -m mypy --strict bot cogs

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

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
