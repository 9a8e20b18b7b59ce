# releasegate: the two commands that matter are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DISTS  := shared services/gateway services/submission services/review services/deployer services/cli
STAMP  := $(VENV)/.installed

.PHONY: run test unit lint bench up down provision venv constraints clean

# Debian and Ubuntu ship the venv module apart (python3-venv): without it, venv fails
# half-way, leaving a venv without pip, which is removed so the next run retries.
$(STAMP): requirements/constraints.txt requirements/dev.txt $(foreach d,$(DISTS),$(d)/pyproject.toml)
	test -x $(BIN)/pip || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	    echo "'$(PYTHON) -m venv' failed: install the venv module (Debian/Ubuntu: sudo apt-get install python3-venv)" >&2; \
	    exit 1; }
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

# Compose checks the required secrets on every command, also `down`, which uses none:
# placeholders let it stop the stack (`up` still refuses to start without them).
down:
	RELEASEGATE_TOKEN_SECRET=$${RELEASEGATE_TOKEN_SECRET:-unused-by-down} \
	RELEASEGATE_CREDENTIALS_KEY=$${RELEASEGATE_CREDENTIALS_KEY:-unused-by-down} \
	    docker compose down

constraints: $(STAMP)
	{ echo "# Pinned versions of every dependency (no URLs). Regenerate with: make constraints"; \
	  $(BIN)/pip freeze --exclude-editable | grep -v '^-e'; } > requirements/constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
