# crmbridge: `make demo` runs the whole product on embedded defaults; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: install demo test lint format bench browser dovecot clean

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# caldav's HTTP stack (niquests) brings urllib3-future; keep it beside urllib3, not over it.
	URLLIB3_NO_OVERRIDE=1 $(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(INSTALLED)

install: $(INSTALLED)

# Browser tests drive Debian's chromium; install it when missing (never a downloaded browser).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		(apt-get install -y -q chromium >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1)) || \
		echo "chromium could not be installed: browser tests will be skipped"; \
	fi

# IMAP tests and the capture bench run Debian's Dovecot on a free port; install it when missing.
dovecot:
	@if [ ! -x /usr/sbin/dovecot ]; then \
		echo "Installing Debian's dovecot-imapd for the IMAP tests..."; \
		(apt-get install -y -q dovecot-imapd >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q dovecot-imapd >/dev/null 2>&1)) || \
		echo "dovecot-imapd could not be installed: IMAP tests will be skipped"; \
	fi

demo: $(INSTALLED)
	bash scripts/demo.sh

test: $(INSTALLED) browser dovecot
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(INSTALLED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(INSTALLED) dovecot
	for script in bench/*_bench.py; do echo "== $$script"; DEBUG=1 $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) var/*.sqlite3* var/static
