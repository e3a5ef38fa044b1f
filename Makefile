# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TEST_WORKERS ?= auto
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint migrate seed clean bench bench-load bench-sqlite bench-scale

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

# Benchmarks (docs/performance.md). The database is made and filled on first use.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/clinic_bench
BENCH_ARGS ?=

bench: install ## Page benchmark: 100,000 patients, 1,000,000 appointments on PostgreSQL
	$(PY) bench/pages.py --database-url $(BENCH_DATABASE_URL) $(BENCH_ARGS)

bench-load: install ## 50 front-desk users at once for 60 seconds on the same database
	$(PY) bench/load.py --database-url $(BENCH_DATABASE_URL) $(BENCH_ARGS)

bench-sqlite: install ## Page benchmark on the embedded SQLite: 10,000 patients, 100,000 appointments
	$(PY) bench/pages.py --database-url sqlite:///$(CURDIR)/bench/results/bench.sqlite3 \
		--patients 10000 --appointments 100000 --label sqlite $(BENCH_ARGS)

bench-scale: install ## The day view at 10,000 appointments, to compare with `make bench`
	$(PY) bench/pages.py --database-url postgres://postgres@127.0.0.1:5432/clinic_bench_small \
		--patients 10000 --appointments 10000 --only "day view" --label postgresql-10k $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) node_modules db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles
