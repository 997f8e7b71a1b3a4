# trialdesk: `make run` sets up and serves the demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PG_URL ?= postgres://postgres@127.0.0.1:5432/trialdesk

.PHONY: setup run test test-postgres lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: setup
	$(BIN)/trialdesk migrate --quiet
	$(BIN)/trialdesk registry import protocols
	$(BIN)/trialdesk demo
	$(BIN)/trialdesk serve --host 127.0.0.1 --port 8000

# The whole suite on SQLite; with CI=true also the database tests on PostgreSQL and the
# browser tests on headless Chromium (which then must not skip).
test: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q
ifeq ($(CI),true)
	$(MAKE) --no-print-directory test-postgres
endif

test-postgres: setup
	DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -q -m "django_db or postgres" -p no:randomly

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
