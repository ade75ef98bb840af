# Rathaus: the two set-up commands are `make demo` and `make test` (see README).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo serve test test-clocks test-fast lint check messages clean

$(STAMP): pyproject.toml constraints.txt package.json package-lock.json
	@command -v $(PYTHON) >/dev/null || { echo "Rathaus needs $(PYTHON)."; exit 1; }
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(STAMP)

## install: Python packages, front-end libraries, system tools the tests need, translations.
install: $(STAMP) system-packages messages

.PHONY: system-packages
system-packages:
	@missing=""; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -x /usr/sbin/dovecot || missing="$$missing dovecot-imapd"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi; \
	fi

messages: $(STAMP)
	@cd src/rathaus && ../../$(BIN)/django-admin compilemessages --ignore=.venv -v 0

## demo: install everything, build the demo city on SQLite and serve it at http://127.0.0.1:8000
demo: install
	RATHAUS_SECURE_COOKIES=0 $(BIN)/rathaus demo
	@echo "Open http://127.0.0.1:8000 (stop with Ctrl+C)"
	RATHAUS_SECURE_COOKIES=0 $(BIN)/rathaus serve 127.0.0.1:8000

serve:
	RATHAUS_SECURE_COOKIES=0 $(BIN)/rathaus serve 127.0.0.1:8000

## test: install everything and run the whole test suite (DATABASE_URL picks the database),
## on one pytest-xdist worker per core (TEST_WORKERS=0 runs it in one process).
TEST_WORKERS ?= auto
test: install
	$(BIN)/pytest -p no:cacheprovider -n $(TEST_WORKERS)

## test-clocks: the tests that deal with dates, under shifted wall clocks (CI runs it):
## about 400 days ahead, a Sunday night, both daylight-saving nights, New Year's Eve, a leap day.
CLOCK_TESTS := tests/core/test_calendar.py tests/contacts tests/appointments \
	tests/api/test_appointments_api.py tests/api/test_cases_api.py tests/api/test_access_log_api.py
CLOCKS = $$(date -d '+400 days' +%Y-%m-%dT10:00) $$(date -d 'next sunday' +%Y-%m-%d)T23:30 \
	2027-03-28T01:58+01:00 2027-10-31T02:58+02:00 2027-12-31T23:59 2028-02-29T09:00
test-clocks: install
	@for instant in $(CLOCKS); do \
	  echo "== the date tests as of $$instant =="; \
	  $(BIN)/pytest -p no:cacheprovider -q -n $(TEST_WORKERS) --as-of "$$instant" $(CLOCK_TESTS) || exit 1; \
	done

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/djlint src --lint --quiet
	$(BIN)/mypy src
	$(BIN)/rathaus makemigrations --check --dry-run

clean:
	rm -rf $(VENV) node_modules var
