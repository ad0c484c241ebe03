# Every target creates .venv on first use; nothing is installed outside it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint schema migrate explain bench clean lock mutate

# constraints.txt pins every dependency to the versions CI tested; `make lock` moves them to the newest.
$(STAMP): pyproject.toml client/pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]' -e ./client
	touch $(STAMP)

lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e '.[dev]' -e ./client
	(echo "# Exact versions the two README commands install (pip -c), the set CI tests. Regenerate: make lock"; \
	 .lock-venv/bin/python -m pip freeze --exclude-editable) > constraints.txt
	rm -rf .lock-venv

serve: $(STAMP)
	$(BIN)/llm-usage serve

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

schema: $(STAMP)
	$(BIN)/llm-usage schema > schema.graphql

migrate: $(STAMP)
	$(BIN)/llm-usage migrate

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/analytics.py
	$(BIN)/python bench/export_memory.py
	$(BIN)/python bench/proxy.py
	$(BIN)/python bench/otlp.py
	$(BIN)/python bench/dashboard.py  # needs Debian's chromium and chromium-driver

# Mutation testing of the core (tests/mutation/run.py, groups in pyproject.toml); slow, so not part of `test`.
# MUTATE_WORKERS=2 for two mutants at a time; MUTATE_ARGS="--group budgets" for one group; the report's path
# is printed at the end (MUTATE_ARGS="--report docs/x.md" to choose it).
MUTATE_WORKERS ?= 1
mutate: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[mutate]'
	MUTATE_WORKERS=$(MUTATE_WORKERS) $(BIN)/python tests/mutation/run.py $(MUTATE_ARGS)

explain: $(STAMP)
	$(BIN)/python bench/explain_queries.py

clean:
	rm -rf $(VENV) .data .pytest_cache
