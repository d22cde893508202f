# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test install interop check lint clean

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.lock
	$(VENV)/bin/pip install -q --no-deps -e .
	touch $@

install: $(VENV)/.installed

# misp-stix and pycti, which the interop tests run on DIX's exports (tests/interop/): each in
# its own environment, as their pins clash with DIX's and with each other's.
INTEROP ?= .venv-interop

$(INTEROP)/%/.installed: tests/interop/%.lock
	$(PYTHON) -m venv $(INTEROP)/$*
	$(INTEROP)/$*/bin/pip install -q --upgrade pip
	$(INTEROP)/$*/bin/pip install -q -r $<
	touch $@

interop: $(INTEROP)/misp/.installed $(INTEROP)/opencti/.installed

## Set up (venv, install, migrate, demo data) and run web + worker + scheduler.
# The demo may deliver webhooks to receivers on this machine (never set this in production).
run: export DIX_WEBHOOK_ALLOW_LOOPBACK ?= true
run: install
	$(PY) manage.py migrate --no-input -v0
	$(PY) manage.py load_demo
	$(PY) manage.py run_all

## Run the whole test suite (SQLite and the embedded broker unless DATABASE_URL/REDIS_URL).
test: install interop
	DIX_INTEROP_VENV=$(abspath $(INTEROP)) $(PY) -m pytest

## Static checks run by CI.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(PY) manage.py makemigrations --check --dry-run

check: lint test

clean:
	rm -rf $(VENV) $(INTEROP) var
