# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Two workers by default: the suite's browser and database tests overlap well.
PYTEST_WORKERS ?= 2
# The demo logins' password (seed_demo reads it from the environment, not its arguments).
export DEMO_PASSWORD ?= demo-password-2026

.PHONY: install run test bench lint format migrate worker beat clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet '.[dev]'
	touch $@

# Development configuration: DEBUG on, SQLite in var/, Celery eager, a local vault key.
.env:
	@echo "Writing .env for local development (edit it, or delete it to start over)."
	@printf 'DEBUG=true\nSECRET_KEY=django-insecure-%s\nVAULT_KEKS_FILE=var/vault-keks.txt\n' \
		"$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(40))')" > .env

var/vault-keks.txt: | $(VENV)/.installed
	mkdir -p var
	DEBUG=true $(PY) manage.py generate_kek --id dev1 > $@.tmp && mv $@.tmp $@
	chmod 600 $@

migrate: install .env var/vault-keks.txt
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py seed_demo
	@echo
	@echo "Provider Portal: http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: install .env var/vault-keks.txt
	$(PY) manage.py bench $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .

format: install
	$(VENV)/bin/ruff format .

worker: install
	$(VENV)/bin/celery -A portal worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A portal beat --loglevel=INFO

clean:
	rm -rf $(VENV) var .pytest_cache
