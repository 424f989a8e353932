# Two commands for a newcomer: `make run` (the app with demo data) and `make test` (the whole suite).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/parindex_test

.PHONY: run test install install-dev browser lint nginx-check test-sqlite test-postgres bench clean

$(BIN)/activate:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/activate
	$(BIN)/pip install --quiet -e .

install-dev: $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[dev]'

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load
	@echo "Mở http://127.0.0.1:5000 (Ctrl+C để dừng)"
	$(BIN)/flask run --host 127.0.0.1 --port 5000

browser:
	bash scripts/install-browser.sh

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict criteria scoring evidence_store
	$(BIN)/mypy --strict webapp  # third-party allowances: pyproject.toml [tool.mypy]

nginx-check:
	bash scripts/check-nginx-config.sh

test-sqlite: install-dev
	$(BIN)/pytest

test-postgres: install-dev
	bash scripts/create-test-db.sh "$(PG_TEST_URL)"
	PARINDEX_TEST_DATABASE_URL="$(PG_TEST_URL)" $(BIN)/pytest tests/integration -m "not browser"

test: install-dev browser lint test-sqlite test-postgres

bench: install-dev
	$(BIN)/python bench/scoring.py
	$(BIN)/python bench/evidence_store.py
	$(BIN)/python bench/dossier.py
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/http.py
	bash scripts/check-nginx-config.sh
	$(BIN)/python bench/slow_clients.py

clean:
	rm -rf $(VENV) instance/parindex.sqlite instance/evidence
