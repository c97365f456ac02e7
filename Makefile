# Wardgate — the two front-door commands are `make demo` and `make test`.
# Both bootstrap .venv from pyproject.toml on first use.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_DIR ?= .wardgate
DEMO_PORT ?= 8080

.PHONY: venv demo test check lint typecheck architecture bench bench-pii clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: venv
	$(VENV)/bin/wardgate init --demo --data-dir $(DEMO_DIR)
	@$(PY) -m gateway.demo.howto --data-dir $(DEMO_DIR) --port $(DEMO_PORT)
	$(VENV)/bin/wardgate serve --data-dir $(DEMO_DIR) --port $(DEMO_PORT)

test: venv
	$(PY) -m pytest -q

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy

architecture: venv
	$(VENV)/bin/lint-imports

check: lint typecheck architecture test

# Governed vs bare read throughput on loopback; e.g. BENCH_ARGS="--duration 5 --rounds 1".
bench: venv
	$(PY) -m bench.run $(BENCH_ARGS)
	$(PY) -m bench.crypto
	$(PY) -m bench.audit

# PII detection: P/R/F1 per entity on a seeded synthetic corpus, build time, MB/s.
bench-pii: venv
	$(PY) -m bench.pii $(BENCH_PII_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .bench
