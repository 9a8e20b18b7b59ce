# releasegate: the two commands that matter are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DISTS  := shared services/gateway services/submission services/review services/deployer services/cli
STAMP  := $(VENV)/.installed

.PHONY: run test unit lint bench up down provision venv constraints clean

$(STAMP): requirements/constraints.txt requirements/dev.txt $(foreach d,$(DISTS),$(d)/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools
	$(BIN)/pip install -q -c requirements/constraints.txt -r requirements/dev.txt \
	    --config-settings editable_mode=compat $(foreach d,$(DISTS),-e $(d))
	touch $@

venv: $(STAMP)

## Embedded mode: all four services in one process, in memory, on 127.0.0.1:8000.
run: $(STAMP)
	$(BIN)/releasegate dev

## Everything CI runs: provision real servers, then unit, contract, integration, e2e.
test: $(STAMP) provision
	CI=$${CI:-true} $(BIN)/pytest -q --timeout 300

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

provision:
	./scripts/provision.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services

bench: $(STAMP) provision
	$(BIN)/python -m bench.run

up:
	docker compose up -d --build

down:
	docker compose down

constraints: $(STAMP)
	{ echo "# Pinned versions of every dependency (no URLs). Regenerate with: make constraints"; \
	  $(BIN)/pip freeze --exclude-editable | grep -v '^-e'; } > requirements/constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
