# Everything people, hooks and CI run. `make test` is what .ci/run calls.
UV ?= python3 -m uv
PY := .venv/bin/python

.PHONY: install run test test-unit test-e2e bench lint format regen clean

install: .venv/.installed

.venv/.installed: pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml tests/e2e/pyproject.toml
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv==0.13.8
	$(UV) sync --all-packages --python 3.11
	@touch $@

run: install
	$(PY) -m csms_devstack.cli run

test: install
	$(PY) -m pytest libs services tests/e2e

test-unit: install
	$(PY) -m pytest libs services

test-e2e: install
	$(PY) -m pytest tests/e2e

bench: install
	$(PY) -m csms_e2e.bench $(BENCH_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

regen: install
	$(PY) libs/ocpp_schema/scripts/generate.py

clean:
	rm -rf .venv .devstack .pytest_cache
