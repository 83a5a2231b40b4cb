# One obvious place for the commands a person runs; README shows them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# 昆山 and 无锡 at the size their plans need (31,000 firms) plus a lighter rest of Jiangsu; about a
# minute with the search index. `make demo DEMO_FIRMS=200000` for more; below 36,000 every region shrinks.
DEMO_FIRMS ?= 40000

.PHONY: install browser demo serve test test-services bench clean

$(INSTALLED): pyproject.toml
	@echo "Installing Cultivar and its Python packages into $(VENV)/ (the first time: a few minutes, quietly)..."
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

# Debian's chromium and a CJK font for the browser tests (tests/web), installed when missing.
browser:
	scripts/install-browser

# Install, migrate, generate the demo registry (once), create the demo logins (kept when they
# exist: `manage.py demo_setup --reset` for new ones), print where to start, serve on :8000 (gunicorn).
# Safe to run again: nothing is regenerated or reset.
# Static files are collected before the logins are printed, so the server answers right after them.
demo: install
	$(PY) manage.py migrate --noinput
	@echo "Collecting static files (pages, charts, GraphiQL)..."
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo --firms $(DEMO_FIRMS) --seed 1 --if-empty
	$(PY) manage.py demo_setup
	# The production server (gunicorn); uploads import inside the request in the embedded set-up: allow them time.
	CULTIVAR_PYTHON=$(PY) SERVE_MIGRATE=0 GUNICORN_TIMEOUT=$${GUNICORN_TIMEOUT:-600} scripts/serve

# The production server (gunicorn, gunicorn.conf.py; GUNICORN_* variables): migrate, collectstatic, serve on :8000.
serve: install
	CULTIVAR_PYTHON=$(PY) scripts/serve

# Install and run the whole test suite (embedded: SQLite, eager Celery, embedded search).
test: install browser
	$(PY) -m pytest

# The same suite on PostgreSQL and Redis started locally (CI runs this too).
test-services: install browser
	scripts/with-services $(PY) -m pytest

clean:
	rm -rf $(VENV) var
