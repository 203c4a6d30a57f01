# civicgrid — `make run` starts the Hexia demo, `make test` runs the whole suite on SQLite.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
PYTHON  := $(BIN)/python
HOST    ?= 127.0.0.1
PORT    ?= 8000
export DJANGO_SETTINGS_MODULE := civicgrid.settings

.PHONY: install run serve worker test test-browser lint format bench migrate demo clean

$(BIN)/activate: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/activate

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

civicgrid/static/vendor/.stamp: node_modules/.package-lock.json scripts/vendor_assets.sh
	scripts/vendor_assets.sh
	touch $@

install: $(BIN)/activate civicgrid/static/vendor/.stamp

migrate: install
	DEBUG=1 $(PYTHON) manage.py migrate --noinput

# Every step is idempotent: a second `make run` changes nothing.
demo: migrate
	DEBUG=1 $(PYTHON) manage.py seed_demo --if-empty
	DEBUG=1 $(PYTHON) manage.py holidays_sync
	DEBUG=1 $(PYTHON) manage.py seed_categories
	DEBUG=1 $(PYTHON) manage.py seed_registry_demo
	DEBUG=1 $(PYTHON) manage.py seed_cases_demo

# Server and background worker together; Ctrl-C stops both.
run: demo
	@DEBUG=1 $(PYTHON) manage.py demo_accounts
	@echo "civicgrid on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	@trap 'kill 0' INT TERM EXIT; \
	  DEBUG=1 $(PYTHON) manage.py db_worker --queue-name '*' --interval 1 --no-reload & \
	  DEBUG=1 $(PYTHON) manage.py runserver $(HOST):$(PORT) --noreload

test: install
	$(BIN)/pytest -m "not browser" -p no:randomly

# Playwright journeys in headless Debian Chromium (apt-get install chromium fonts-noto-cjk).
test-browser: install
	$(BIN)/pytest -m browser tests/browser

lint: install
	$(BIN)/ruff check civicgrid bench tests
	$(BIN)/ruff format --check civicgrid bench tests
	DEBUG=1 $(PYTHON) manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix civicgrid bench tests
	$(BIN)/ruff format civicgrid bench tests

bench: install
	$(PYTHON) bench/locate_bench.py

clean:
	rm -rf $(VENV) node_modules civicgrid/static/vendor var
