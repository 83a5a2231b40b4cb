# One obvious place for the commands a person runs; README shows them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
DEMO_FIRMS ?= 3000

.PHONY: install browser demo test test-services bench clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

# Debian's chromium and a CJK font for the browser tests (tests/web), installed when missing.
browser:
	scripts/install-browser

# Install, migrate, generate the demo registry (once), create demo logins, serve on :8000.
demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --firms $(DEMO_FIRMS) --seed 1 --if-empty
	$(PY) manage.py demo_setup
	$(PY) manage.py runserver 127.0.0.1:8000

# Install and run the whole test suite (embedded: SQLite, eager Celery, embedded search).
test: install browser
	$(PY) -m pytest

# The same suite on PostgreSQL and Redis started locally (CI runs this too).
test-services: install browser
	scripts/with-services $(PY) -m pytest

clean:
	rm -rf $(VENV) var
