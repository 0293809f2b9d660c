# Tropa: `make run` serves the demo, `make test` runs the whole suite on SQLite and PostgreSQL.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install translations messages lint format bench bench-peers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Compiled catalogues are build output (not committed): always rebuilt from the .po files.
translations: install
	$(BIN)/pybabel -q compile -d webapp/translations

# The mail worker runs beside the server (without SMTP it writes instance/mail/*.eml) and
# stops with it. Both learn the address (TROPA_HOST, TROPA_PORT): links made outside a
# request name it when TROPA_BASE_URL is not set (webapp.urls).
run: translations
	$(BIN)/tropa db upgrade
	$(BIN)/tropa demo-data
	TROPA_HOST=$(HOST) TROPA_PORT=$(PORT) bash -c 'trap "kill 0" EXIT; $(BIN)/tropa worker & $(BIN)/tropa run --host $(HOST) --port $(PORT)'

test: translations
	bash scripts/test-all.sh

# After changing user-facing strings: refresh the catalogues, then translate the new entries.
messages: install
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o webapp/translations/messages.pot --no-location --sort-output webapp events courses certificates feedback projects reports
	$(BIN)/pybabel -q update -i webapp/translations/messages.pot -d webapp/translations --no-fuzzy-matching --ignore-obsolete

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: translations
	bash scripts/bench-all.sh

# Tropa beside pretix, installed into its own venv (bench/out/peers): optional, not in CI.
bench-peers: translations
	bash scripts/bench-peers.sh

clean:
	rm -rf $(VENV) instance .pytest_cache
