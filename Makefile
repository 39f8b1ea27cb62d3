# Two commands on a fresh machine: `make demo` talks to the bot, `make test` checks it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench services clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: the bot in a terminal, on the embedded defaults (SQLite, platform.example.yaml)
demo: $(STAMP)
	$(BIN)/platform-bot shell

## test: lint, type-check, import contracts and the whole test suite
test: $(STAMP) services lint typecheck unit

services:
	bash .ci/services.sh

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest

## bench: ack latency against a bare Bolt app on the same server (see benchmarks/README.md)
bench: $(STAMP) services
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache platform-bot.db platform-bot.db-* platform-bot-data
