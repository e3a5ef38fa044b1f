# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TEST_WORKERS ?= auto
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint migrate seed clean

run: install migrate seed ## Set everything up and serve the app on http://127.0.0.1:8000
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install ## Run the whole suite (DATABASE_URL picks PostgreSQL; SQLite otherwise)
	$(VENV)/bin/pytest -n $(TEST_WORKERS)
	@# On SQLite the racing-bookings tests need a database file: a short pass of their own.
	@if [ -z "$$DATABASE_URL" ]; then CLINIC_TEST_SQLITE_FILE=1 $(VENV)/bin/pytest -m concurrency; fi

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) node_modules db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles
