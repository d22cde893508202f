# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# pyproject.toml's requires-python: DIX runs on 3.11 only.
PYTHON_VERSION := 3.11
PRINT_VERSION := -c 'import sys; print("%d.%d" % sys.version_info[:2])'

.PHONY: run test install interop check lint clean

# A venv made by another Python (an older checkout, a python3 upgraded or removed since) is
# rebuilt, whatever the timestamps say.
ifneq ($(shell $(PY) $(PRINT_VERSION) 2>/dev/null),$(PYTHON_VERSION))
.PHONY: $(VENV)/.installed
endif

# pip's own output, one line per package, shortened to a counter on one line; pip's exit
# status passes through, and on failure its whole output is shown.
export PIP_PROGRESS := /^Collecting / { i++; printf "\r  [%d/%d] %-60s", i, n, $$2; fflush(); next } \
  /^pip-exit / { status = $$2; next } \
  { out = out $$0 "\n" } \
  END { printf "\n"; if (status != 0) printf "%s", out | "cat 1>&2"; exit status }

# The Python is checked before anything is installed; only the venv is rebuilt, never var/.
$(VENV)/.installed: pyproject.toml requirements.lock
	@found=$$($(PYTHON) $(PRINT_VERSION) 2>/dev/null); if [ "$$found" != "$(PYTHON_VERSION)" ]; then \
	  echo "DIX needs Python $(PYTHON_VERSION) but $(PYTHON) is $${found:-not found}: run make with PYTHON=python$(PYTHON_VERSION) (e.g. make run PYTHON=python$(PYTHON_VERSION)); nothing was installed." >&2; \
	  exit 1; fi
	@if [ -f $(VENV)/pyvenv.cfg ] && [ "$$($(PY) $(PRINT_VERSION) 2>/dev/null)" != "$(PYTHON_VERSION)" ]; then \
	  echo "Rebuilding $(VENV): it was made with another Python (data in var/ is kept)."; \
	  rm -rf $(VENV); fi
	@echo "Creating $(VENV) (first run only)..."
	@$(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install -q --upgrade pip
	@n=$$(grep -c '^[A-Za-z0-9]' requirements.lock); \
	echo "Installing $$n packages into $(VENV) (first run only, about a minute)..."; \
	{ $(VENV)/bin/pip install -r requirements.lock 2>&1; echo "pip-exit $$?"; } \
	  | awk -v n=$$n "$$PIP_PROGRESS"
	@echo "Installing DIX itself into $(VENV)..."
	@$(VENV)/bin/pip install -q --no-deps -e .
	@touch $@

install: $(VENV)/.installed

# misp-stix and pycti, which the interop tests run on DIX's exports (tests/exchange/interop/): each in
# its own environment, as their pins clash with DIX's and with each other's.
INTEROP ?= .venv-interop

$(INTEROP)/%/.installed: tests/exchange/interop/%.lock
	$(PYTHON) -m venv $(INTEROP)/$*
	$(INTEROP)/$*/bin/pip install -q --upgrade pip
	$(INTEROP)/$*/bin/pip install -q -r $<
	touch $@

interop: $(INTEROP)/misp/.installed $(INTEROP)/opencti/.installed

## Set up (venv, install, migrate, demo data) and run web + worker + scheduler.
# The demo may deliver webhooks to receivers on this machine (never set this in production).
run: export DIX_WEBHOOK_ALLOW_LOOPBACK ?= true
# The portal's sign-in page lists the demo personas' passwords and authenticator keys.
run: export DIX_DEMO ?= true
run: install
	$(PY) manage.py run_all --check-port
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
	$(VENV)/bin/lint-imports
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(PY) manage.py makemigrations --check --dry-run

check: lint test

clean:
	rm -rf $(VENV) $(INTEROP) var
