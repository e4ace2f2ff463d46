# The two commands of the README: `make run` and `make test`.
# Both create the virtual environment .venv and the vendored static files when missing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := static/vendor
HOST ?= 127.0.0.1
PORT ?= 8000

# Tests never need a real secret; production must set SECRET_KEY itself.
TEST_ENV := SECRET_KEY=$${SECRET_KEY:-test-only-secret-key-not-for-production} \
	STATIC_MANIFEST=0 WHITENOISE_USE_FINDERS=1

.PHONY: run test lint bench load assets clean

$(BIN)/python: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/python

node_modules/.package-lock.json: package.json
	npm install --no-audit --no-fund --silent
	touch node_modules/.package-lock.json

assets: $(VENDOR)/.stamp

$(VENDOR)/.stamp: node_modules/.package-lock.json
	mkdir -p $(VENDOR)
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.min.css.map $(VENDOR)/
	cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map $(VENDOR)/
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/dist/chart.umd.min.js.map $(VENDOR)/
	touch $@

## Set up and run the app on SQLite with demo data: `make run PORT=8123 HOST=0.0.0.0`.
# The sign-in details are printed again once the server has started, so the demo
# password is not lost above the server's start-up output (it stays in memory only).
# A task worker runs next to the server (emails, webhooks, imports) and stops with it:
# db_worker for the default database backend, rqworker for TASKS_BACKEND=rq.
run: $(BIN)/python assets
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	@export DEBUG=$${DEBUG:-1}; site=$${SITE_URL:-http://$(HOST):$(PORT)}; \
	login="$$(SITE_URL=$$site $(BIN)/python manage.py seed_demo)" || exit 1; \
	printf '%s\n' "$$login"; \
	( sleep 3; printf '\n%s\n\n' "$$(printf '%s\n' "$$login" | sed -n '/^Sign in at/,$$p')" ) & \
	worker=; \
	case "$${TASKS_BACKEND:-database}" in \
	database) SITE_URL=$$site $(BIN)/python manage.py db_worker --no-reload & worker=$$!;; \
	rq) SITE_URL=$$site $(BIN)/python manage.py rqworker --with-scheduler default & worker=$$!;; \
	esac; \
	trap 'if [ -n "$$worker" ]; then kill $$worker 2>/dev/null; wait $$worker 2>/dev/null; fi' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## Set up and run the whole test suite (browser tests included when Chromium is installed).
test: $(BIN)/python assets
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

lint: $(BIN)/python
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/python manage.py check
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

bench: $(BIN)/python assets
	$(TEST_ENV) $(BIN)/python -m bench $(BENCH_ARGS)

## Load and concurrency run against gunicorn on 127.0.0.1 (SQLite, and PostgreSQL if reachable).
load: $(BIN)/python assets
	$(BIN)/python -m bench.load $(LOAD_ARGS)

clean:
	rm -rf $(VENV) node_modules $(VENDOR) staticfiles
