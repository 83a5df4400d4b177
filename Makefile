# Frontdesk: `make run` to try it, `make test` to check it. Everything is installed from the
# project's own files (pyproject.toml, package.json + lock), so a fresh machine needs nothing else.

PORT ?= 5000
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(PY) -m flask --app app

.PHONY: setup run test fuzz lint format bench clean

setup: $(VENV)/.installed static/vendor/htmx.min.js

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

static/vendor/htmx.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/htmx.org/dist/ext/hx-sse.min.js static/vendor/hx-sse.min.js
	touch $@

run: setup
	$(FLASK) init-db
	@echo ""
	@echo "  Admin:      http://127.0.0.1:$(PORT)/admin"
	@echo "  Demo page:  http://localhost:$(PORT)/demo   (the widget is served from 127.0.0.1, a third-party origin)"
	@echo ""
	FRONTDESK_DEMO=true $(FLASK) run --host 127.0.0.1 --port $(PORT)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

test: lint
	$(FLASK) labels check
	$(PY) -m pytest

fuzz: setup  # the property-based suite with many more examples than `make test` runs
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -p no:cacheprovider tests/test_fuzz.py

# BENCH_STREAMS=1000 (or 2000) make bench: more open widget streams than the default 200.
bench: setup
	$(PY) bench.py

clean:
	rm -rf $(VENV) node_modules static/vendor instance/assets instance/assets-minified .pytest_cache .ruff_cache
