# Pitcrew developer commands. `make help` lists them.
#
# `make setup` is cheap once done: each step leaves a stamp file under .venv/ and only runs again when the
# file it depends on (requirements.lock, pyproject.toml, package-lock.json) is newer than its stamp.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHROMIUM := /usr/bin/chromium
PYTEST_ARGS ?=

PY_STAMP := $(VENV)/.stamp-python
NPM_STAMP := $(VENV)/.stamp-npm

SETUP_STAMPS := $(PY_STAMP)
ifneq ($(wildcard package-lock.json),)
SETUP_STAMPS += $(NPM_STAMP)
endif

# Re-run `npm ci` when its output is gone even though the stamp is still there.
NPM_FORCE := $(if $(and $(wildcard node_modules),$(wildcard static/vendor)),,FORCE)

.PHONY: help setup debian-packages run test lint format bench bench-problems clean distclean FORCE

help: ## List the targets
	@echo 'Pitcrew: make <target>'
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-10s %s\n", $$1, $$2}'

setup: $(SETUP_STAMPS) debian-packages ## Create .venv, install pinned packages, front-end packages and the test components

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(PY_STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -r requirements.lock
	@touch $@

$(NPM_STAMP): package-lock.json $(wildcard package.json) $(NPM_FORCE) | $(BIN)/python
	npm ci --no-audit --no-fund
	@touch $@

# Real components the tests drive, from Debian's packages: Chromium (browser tests through Playwright), Dovecot
# (the IMAP server inbound e-mail is read from) and Alertmanager (monitoring alerts sent to the webhook).
DEBIAN_TEST_PACKAGES := chromium dovecot-imapd prometheus-alertmanager
DEBIAN_TEST_PROGRAMS := $(CHROMIUM) /usr/sbin/dovecot /usr/bin/prometheus-alertmanager

debian-packages: $(DEBIAN_TEST_PROGRAMS)

$(DEBIAN_TEST_PROGRAMS):
	@echo 'Test components are missing ($(DEBIAN_TEST_PACKAGES)): installing the Debian packages.'
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEBIAN_TEST_PACKAGES); \
	elif command -v sudo >/dev/null 2>&1; then \
		sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEBIAN_TEST_PACKAGES); \
	else \
		echo 'WARNING: cannot install Debian packages without root or sudo. Run as root: apt-get install -y $(DEBIAN_TEST_PACKAGES)'; \
		echo 'WARNING: browser, IMAP and Alertmanager tests fail until they are installed.'; \
	fi

run: setup ## Run the app with embedded defaults (SQLite, filesystem broker): web, worker and beat
	$(BIN)/python scripts/run.py

test: setup ## Run the test suite and print its coverage (extra pytest options: make test PYTEST_ARGS='-k health -x')
	env -u DEBUG $(BIN)/pytest --cov $(PYTEST_ARGS)

lint: setup ## Check code style (ruff)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup ## Fix what ruff can fix and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup ## Run the benchmarks (1,000,000 tickets; BENCH_INCIDENTS=… BENCH_CIS=… for a smaller data set)
	$(BIN)/python -m bench

bench-problems: setup ## Backtest the problem candidate scan on the ServiceNow event log (bench/README.md)
	$(BIN)/python -m bench.problem_candidates

clean: ## Remove generated files: local database and broker (var/), collected static, caches
	rm -rf var staticfiles test-artifacts .pytest_cache .ruff_cache htmlcov .coverage
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf

distclean: clean ## Also remove .venv, node_modules and static/vendor
	rm -rf $(VENV) node_modules static/vendor

FORCE:
