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

REQUIREMENTS := requirements.txt requirements-dev.txt requirements-speech.txt requirements-llm.txt
NODEPS := requirements-nodeps.txt
LLM_STAMP := $(VENV)/.installed-llm-local
# Debian packages the tests drive: speech fixtures, real SIP peers, a headless browser.
APT_PACKAGES := espeak-ng sox libsox-fmt-all chromium $(shell cat services/dialer/tests/sip/APT_PACKAGES 2>/dev/null)

$(STAMP): $(REQUIREMENTS) $(NODEPS) pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(addprefix -r ,$(REQUIREMENTS))
	$(BIN)/pip install -q --no-deps $(addprefix -r ,$(NODEPS))
	$(MAKE) --no-print-directory protos
	$(BIN)/pip install -q --no-deps -e .
	@touch $@

# llama.cpp's OpenAI-compatible server, built from source (minutes; pip caches the wheel).
$(LLM_STAMP): requirements-llm-local.txt | $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install -q -c requirements.txt -r requirements-llm-local.txt
	@touch $@

.PHONY: install-llm-local
install-llm-local: $(LLM_STAMP) ## Build the local llama.cpp server (needed by the llm tests)

.PHONY: system-deps
system-deps: ## Install the Debian packages the tests need (when missing)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

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
demo: install ## A whole simulated voice call: transcript, claim and report
	$(BIN)/switchboard simulate --voice --rate 16000 scenarios/demo.yaml

# The local PostgreSQL and Redis the tests talk to (the store's contract suite, the
# postgres cluster test): started when they are down, with the machine's own commands.
PG_HOST ?= 127.0.0.1
.PHONY: services
services: ## Start the local PostgreSQL and Redis when they are not running
	@pg_isready -q -h $(PG_HOST) || { \
		echo "Starting PostgreSQL ..."; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
		for i in $$(seq 50); do pg_isready -q -h $(PG_HOST) && break; sleep 0.2; done; \
		pg_isready -h $(PG_HOST); }
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || { \
		echo "Starting Redis ..."; \
		redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
			--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log; \
		for i in $$(seq 50); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.2; done; \
		redis-cli -h 127.0.0.1 ping; }

.PHONY: test
test: install install-llm-local system-deps services ## Install what is needed and run every test
	$(BIN)/python -m pytest -q

.PHONY: eval
eval: install system-deps ## The conversation suite (scenarios/eval) in text and voice mode
	$(BIN)/switchboard eval scenarios/eval
	$(BIN)/switchboard eval scenarios/eval --voice

.PHONY: lint
lint: install ## ruff, mypy (strict) and the import contracts (pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy lib cli services
	$(BIN)/lint-imports

.PHONY: bench
bench: install install-llm-local system-deps services ## Run every benchmark (about 25 min); JSON in bench/results
	$(BIN)/python bench/turn_overhead.py --tracing both
	$(BIN)/python bench/rpc_tracing_cost.py
	$(BIN)/python bench/store/latency.py
	$(BIN)/python bench/brain/overhead.py
	$(BIN)/python bench/carriers/acs_frame_cost.py
	$(BIN)/python bench/brain/local_llm.py
	$(BIN)/python bench/brain/rag.py
	$(BIN)/python bench/speech/wer.py --engines piper,espeak
	$(BIN)/python bench/speech/latency.py --rate 8000
	$(BIN)/python bench/speech/concurrency.py --levels 1,2,4,6,8
	$(BIN)/python bench/voice/latency.py --fields 10
	$(BIN)/python bench/voice/capacity.py --calls 50,100,200,300 --seconds 6
	$(BIN)/python bench/cluster/capacity.py --calls 10,25,50 --runs 2 --seconds 30 --warmup 10
	$(BIN)/python bench/cluster/soak.py --calls 50 --minutes 2 --warmup 90
	$(BIN)/python bench/sip/turn_latency.py --turns 8
	$(BIN)/python bench/carriers/frame_cost.py --frames 20000
	$(BIN)/python bench/carriers/turn_latency.py --carrier twilio --calls 8
	$(BIN)/python bench/carriers/turn_latency.py --carrier acs --calls 8

.PHONY: deploy
deploy: ## Deploy to Azure Container Apps with Bicep (needs the Azure CLI; docs/operations.md)
	@command -v az >/dev/null 2>&1 || { \
		echo "make deploy needs the Azure CLI (az), which is not installed here; see docs/operations.md" >&2; \
		exit 1; }
	@$(SHELL) deploy/bicep/deploy.sh

.PHONY: clean
clean: ## Remove the virtual environment, generated code and local data
	rm -rf $(VENV) var lib/switchboard/v1/*_pb2*.py lib/switchboard/v1/*_pb2.pyi
