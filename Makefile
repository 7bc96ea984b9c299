# Switchboard developer verbs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROTOS := $(wildcard protos/switchboard/v1/*.proto)
GENERATED := lib/switchboard/v1/common_pb2.py

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	$(MAKE) --no-print-directory protos
	$(BIN)/pip install -q --no-deps -e .
	@touch $@

.PHONY: install
install: $(STAMP) ## Create .venv and install everything (idempotent)

$(GENERATED): $(PROTOS)
	$(BIN)/python -m grpc_tools.protoc -Iprotos --python_out=lib --pyi_out=lib \
		--grpc_python_out=lib $(PROTOS)

.PHONY: protos
protos: ## Generate the gRPC code from protos/ (pinned grpcio-tools)
	$(BIN)/python -m grpc_tools.protoc -Iprotos --python_out=lib --pyi_out=lib \
		--grpc_python_out=lib $(PROTOS)

.PHONY: run
run: install ## Start the five services on the embedded offline defaults
	$(BIN)/switchboard run

.PHONY: demo
demo: install ## Run a whole simulated call and print transcript, claim and report URL
	$(BIN)/switchboard simulate scenarios/demo.yaml

.PHONY: test
test: install ## Install what is needed and run every test
	$(BIN)/python -m pytest -q

.PHONY: lint
lint: install ## ruff and mypy (strict)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy lib services

.PHONY: bench
bench: install ## Run the benchmarks; results in bench/results and docs/benchmarks.md
	$(BIN)/python bench/turn_overhead.py

.PHONY: clean
clean: ## Remove the virtual environment, generated code and local data
	rm -rf $(VENV) var lib/switchboard/v1/*_pb2*.py lib/switchboard/v1/*_pb2.pyi
