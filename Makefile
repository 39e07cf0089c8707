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

.PHONY: help setup debian-packages run test lint format bench bench-smoke bench-storage bench-problems bench-forecast bench-eta bench-load bench-faults \
	bench-connections backup restore clean distclean FORCE

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

# Coverage measurement slows the suite by about a quarter; `make test COVERAGE=` runs it without.
COVERAGE ?= --cov
test: setup ## Run the test suite and print its coverage (extra pytest options: make test PYTEST_ARGS='-k health -x')
	env -u DEBUG $(BIN)/pytest $(COVERAGE) $(PYTEST_ARGS)

lint: setup ## Check code style (ruff)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup ## Fix what ruff can fix and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup ## Run the benchmarks (1,000,000 tickets; BENCH_INCIDENTS=… BENCH_CIS=… for a smaller data set)
	$(BIN)/python -m bench

bench-smoke: setup ## The benchmarks at 3,000 incidents; fails when an operation exceeds its query budget (bench/budgets.py)
	$(BIN)/python -m bench --smoke

bench-storage: setup ## Bytes per ticket by table and index on the benchmark database (read-only; a URL: STORAGE_URL=…)
	$(BIN)/python -m bench.bench_storage $(STORAGE_URL)

bench-problems: setup ## Backtest the problem candidate scan on the ServiceNow event log (bench/README.md)
	$(BIN)/python -m bench.problem_candidates

bench-forecast: setup ## Backtest predictive SLA warnings against the fixed-percentage warning (bench/README.md)
	$(BIN)/python -m bench.queue_forecast_backtest

bench-eta: setup ## Backtest the predicted resolution time on the ServiceNow event log (bench/README.md)
	$(BIN)/python -m bench.eta_backtest

bench-load: setup ## 10 minutes of mixed load on gunicorn, Celery, PostgreSQL and Redis (LOAD_ARGS='--minutes 2 --clients 9')
	$(BIN)/python -m bench load $(LOAD_ARGS)

bench-faults: setup ## Restart PostgreSQL, then Redis, under load (their own servers) and measure the recovery
	$(BIN)/python -m bench faults $(FAULTS_ARGS)

bench-connections: setup ## PostgreSQL connections held by gunicorn: workers x threads at CONN_MAX_AGE 0 and 60
	$(BIN)/python -m bench connections

backup: setup ## Back up the database (pg_dump -Fc) and the media folder into var/backups (BACKUP_DIR=… elsewhere)
	$(BIN)/python scripts/backup.py backup

restore: setup ## Replace the database and the media folder with a backup: make restore BACKUP=var/backups/pitcrew-…
	@test -n "$${BACKUP:-}" || { echo 'Name the backup: make restore BACKUP=var/backups/pitcrew-…'; exit 2; }
	$(BIN)/python scripts/backup.py restore "$$BACKUP" $(RESTORE_ARGS)

clean: ## Remove generated files: local database and broker (var/), collected static, caches
	rm -rf var staticfiles test-artifacts .pytest_cache .ruff_cache htmlcov .coverage
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf

distclean: clean ## Also remove .venv, node_modules and static/vendor
	rm -rf $(VENV) node_modules static/vendor

FORCE:
