# linli: two commands on a fresh machine.
#   make demo   virtualenv + install + plan the embedded Shanghai day
#   make test   virtualenv with dev extras + ruff + mypy + pytest (SQLite and PostgreSQL)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Debian packages the test suite needs (installed with apt-get when missing and root).
DEB_PACKAGES ?= fonts-noto-cjk poppler-utils chromium

.PHONY: demo test lint sysdeps postgres webdeps clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "linli needs Python >= 3.11, found " + sys.version' \
	  || { echo "error: install Python 3.11 or newer, or run 'make PYTHON=python3.11 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/linli demo

sysdeps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "error: the tests need the Debian packages:$$missing; run: sudo apt-get install -y$$missing"; exit 1; fi; \
	fi

# Start the local PostgreSQL cluster when it is installed but stopped (the store tests need it).
postgres:
	@if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  if [ "$$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null 2>&1; then \
	    pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n1) main start || true; \
	  else echo "warning: PostgreSQL is not answering on 127.0.0.1:5432; the store tests will fail under CI=true"; fi; \
	fi

# Leaflet (served to the map page) and axe-core (the browser tests) from api/web/package-lock.json.
webdeps:
	@if [ ! -d api/web/node_modules/leaflet ] || [ ! -d api/web/node_modules/axe-core ]; then \
	  if command -v npm >/dev/null 2>&1; then npm ci --prefix api/web --no-audit --no-fund; \
	  else echo "error: npm is missing; the pages' map and the browser tests need api/web's npm packages: install Node.js and npm (apt-get install -y npm), then run: npm ci --prefix api/web"; exit 1; fi; \
	fi

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(VENV)/.installed-dev sysdeps postgres webdeps lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
