# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=

# Tests always run on PostgreSQL and Redis: the given URLs, else the local servers.
TEST_DATABASE_URL := $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/housing_commerce)
TEST_REDIS_URL := $(or $(REDIS_URL),redis://127.0.0.1:6379/0)

.PHONY: run test test-fast test-sqlite install install-dev newman lint format clean lock check-lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The locks pin every package with its hashes; pip refuses anything else.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# newman runs the Postman collection of docs/postman in the test suite (needs Node.js/npm).
NEWMAN_VERSION := 6.2.2
NEWMAN := .cache/node/node_modules/.bin/newman
$(NEWMAN):
	scripts/ensure-browser.sh
	npm install --silent --no-audit --no-fund --prefix .cache/node newman@$(NEWMAN_VERSION)
newman: $(NEWMAN)

## make lock: recompile requirements.txt and requirements-dev.txt (hashed) from the .in files,
## keeping the locked versions of packages the .in files leave free (UPGRADE=1: newest ones).
lock: install-dev
	$(PYTHON) scripts/lock.py compile $(BIN)/uv $(if $(UPGRADE),--upgrade)

## check-lock: fail when a .in file changed after its lock was compiled (a hash comparison).
check-lock:
	@$(PYTHON) scripts/lock.py check

## make run: the whole product (web + worker + beat) on http://127.0.0.1:8000 with demo data.
run: export DEBUG ?= true
run: install
	mkdir -p var
	scripts/compile-messages.sh
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo_data
	@echo "Swagger UI: http://127.0.0.1:$${PORT:-8000}/api/docs/   admin: http://127.0.0.1:$${PORT:-8000}/admin/"
	@# honcho hands its first process PORT=5000 unless told the port: the web process gets the
	@# one announced above.
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -p $${PORT:-8000} -f Procfile

## make test: ruff, the import contracts, mypy, the OpenAPI check and the whole pytest suite on
## PostgreSQL + Redis, then the domain service tests on SQLite (and the
## admin's browser tests in headless Chromium, installed with gettext when missing).
test: export DATABASE_URL_GIVEN := $(DATABASE_URL)
test: export REDIS_URL_GIVEN := $(REDIS_URL)
test: export DATABASE_URL := $(TEST_DATABASE_URL)
test: export REDIS_URL := $(TEST_REDIS_URL)
test: export SECRET_KEY ?= test-only-secret-key-for-the-suite-0c7f3e9a41b25d68e1f49a7c3b8d2e56
test: export DEBUG := false
# Redis pub/sub channels ignore the database number: one prefix per run keeps two suites on one
# Redis (a developer's and CI's) from seeing each other's stock pushes.
test: export CHANNELS_PREFIX ?= asgi-test-$(shell date +%s%N)
test: check-lock install-dev $(if $(FAST),,newman)
	scripts/ensure-services.sh
	$(if $(FAST),,scripts/ensure-browser.sh)
	REQUIRE_MSGFMT=1 scripts/compile-messages.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(BIN)/pytest --create-db $(if $(FAST),-m "not slow") $(ARGS)
	$(if $(ARGS),,$(MAKE) --no-print-directory test-sqlite)

## test-sqlite: the domain service tests again on SQLite, the quick start's embedded database
## (no DATABASE_URL/REDIS_URL: the settings fall back to SQLite, the in-memory channel layer and
## the filesystem broker); tests that need PostgreSQL itself are marked postgres_only.
SQLITE_TESTS := billing/tests/test_rules.py billing/tests/test_calculation.py \
	billing/tests/test_services.py accounts/tests/balances/test_api.py \
	accounts/tests/balances/test_ledger.py accounts/tests/balances/test_idempotency.py \
	stores/tests/test_services.py stores/tests/test_one_statement.py \
	receipts/tests/test_services.py receipts/tests/test_end_to_end.py \
	imports/tests/test_imports.py
test-sqlite: export SECRET_KEY ?= test-only-secret-key-for-the-suite-0c7f3e9a41b25d68e1f49a7c3b8d2e56
test-sqlite: install-dev
	env -u DATABASE_URL -u REDIS_URL VAR_DIR="$$(mktemp -d)" \
		$(BIN)/pytest -q -m "not slow and not postgres_only" $(SQLITE_TESTS)

## make test-fast: make test without the slow tests (real workers, servers and brokers, the
## browser, newman), so without installing Chromium and newman (gettext's msgfmt is needed).
test-fast:
	$(MAKE) --no-print-directory test FAST=1

lint: install-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

clean:
	rm -rf var/db.sqlite3* var/broker var/broker-processed var/celerybeat-schedule*
