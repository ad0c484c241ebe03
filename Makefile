# Every target creates .venv on first use; nothing is installed outside it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint schema migrate explain bench clean

$(STAMP): pyproject.toml client/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./client
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/llm-usage serve

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

schema: $(STAMP)
	$(BIN)/llm-usage schema > schema.graphql

migrate: $(STAMP)
	$(BIN)/llm-usage migrate

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/analytics.py
	$(BIN)/python bench/export_memory.py

explain: $(STAMP)
	$(BIN)/python bench/explain_queries.py

clean:
	rm -rf $(VENV) .data .pytest_cache
