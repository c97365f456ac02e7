# Wardgate — the two front-door commands are `make demo` and `make test`.
# Both bootstrap .venv from pyproject.toml on first use.
#
# The demo store lives in DEMO_DIR, the same ./wardgate-data every `wardgate` command
# uses by default, so the README's commands find it. `make demo` reuses an existing
# store; `make demo-reset` deletes it and seeds a fresh one. `make clean` removes build
# and tool caches only, never a data directory: it holds a master key and a store.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_DIR ?= wardgate-data
DEMO_PORT ?= 8080
DEMO_CUSTOMERS ?= 2000

.PHONY: venv demo demo-reset test check lint typecheck architecture bench bench-pii clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: venv
	$(VENV)/bin/wardgate init --demo --customers $(DEMO_CUSTOMERS) --data-dir $(DEMO_DIR)
	@$(PY) -m gateway.demo.howto --data-dir $(DEMO_DIR) --port $(DEMO_PORT)
	$(VENV)/bin/wardgate serve --data-dir $(DEMO_DIR) --port $(DEMO_PORT)

# A fresh demo store (new keys, new customers); `make demo` then serves it.
demo-reset: venv
	rm -rf -- '$(DEMO_DIR)'
	$(VENV)/bin/wardgate init --demo --customers $(DEMO_CUSTOMERS) --data-dir $(DEMO_DIR)
	@$(PY) -m gateway.demo.howto --data-dir $(DEMO_DIR) --port $(DEMO_PORT)

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

# Floor, bare and governed reads on loopback, SQLite and PostgreSQL, 1 and N workers, with
# the targets of issue 16; a few minutes with BENCH_ARGS=--quick (see docs/performance.md).
# bench.bound then measures the least a governed read adds to a bare one on that store.
bench: venv
	$(PY) -m bench.run $(BENCH_ARGS)
	$(PY) -m bench.bound
	$(PY) -m bench.crypto
	$(PY) -m bench.audit

# PII detection: P/R/F1 per entity on a seeded synthetic corpus, build time, MB/s.
bench-pii: venv
	$(PY) -m bench.pii $(BENCH_PII_ARGS)

# Build and tool caches only: the demo store (DEMO_DIR) is kept; see demo-reset.
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .bench
