# telnyx-messages: pull and pin the spec, generate the client, package it with the overlay.
# Every target is idempotent and pulls in what it needs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

UPSTREAM_SPEC_URL := https://telnyx-openapi-ng.s3.us-east-1.amazonaws.com/messaging/messages.yml
MIRROR := ../shared/spec/messages.yml
# No build machine here reaches the internet: the mirror stands in for upstream where it exists.
SPEC_URL ?= $(if $(wildcard $(MIRROR)),$(MIRROR),$(UPSTREAM_SPEC_URL))
# The lock names upstream as the source of what came through its mirror.
SPEC_SOURCE = $(if $(filter $(MIRROR),$(SPEC_URL)),$(UPSTREAM_SPEC_URL),$(SPEC_URL))

SPEC := openapi/messages.yml
LOCK := openapi/messages.lock.json
GENERATED := generated/telnyx_messages_api
TEMPLATES := $(shell find templates -type f)
NODE_TOOLS := tools/node_modules/.installed

.DELETE_ON_ERROR:

.PHONY: all spec spec-update generate install test lint demo build bench clean

all: install

# --- tools ------------------------------------------------------------------------------------
$(BIN)/.dev-installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is required")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["dev"]))' > $(VENV)/dev-requirements.txt
	$(PY) -m pip install --quiet -r $(VENV)/dev-requirements.txt
	touch $@

# Prism (the mock API) and Redocly CLI (the spec diff), pinned in tools/package-lock.json.
$(NODE_TOOLS): tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# --- spec -------------------------------------------------------------------------------------
spec: $(BIN)/.dev-installed
	$(PY) tools/spec.py pull $(SPEC_URL)

$(SPEC): $(LOCK) | $(BIN)/.dev-installed
	$(PY) tools/spec.py pull $(SPEC_URL)

# Print the classified changelog, re-pin, regenerate, and put the contract tests on the new code.
spec-update: $(BIN)/.dev-installed $(NODE_TOOLS)
	$(PY) tools/spec.py update $(SPEC_URL) $(SPEC_SOURCE)
	$(MAKE) --no-print-directory install
	@if $(BIN)/pytest -q -p no:cacheprovider tests/test_contract.py tests/test_operations.py tests/test_client.py; \
	then echo "spec-update: re-pinned, regenerated; the contract tests pass. Review, then commit $(LOCK)."; \
	else echo "spec-update: re-pinned, regenerated; the contract tests FAIL (above). Fix templates or overlay, or go back: make spec-update SPEC_URL=<the previous source>"; exit 1; fi

# --- generation -------------------------------------------------------------------------------
$(GENERATED)/__init__.py: $(SPEC) generator-config.yaml $(TEMPLATES) $(BIN)/.dev-installed
	rm -rf $(GENERATED)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/openapi-python-client generate --path $(SPEC) \
		--config generator-config.yaml --custom-template-path templates \
		--meta none --output-path $(GENERATED) > $(VENV)/generate.log 2>&1 \
		|| { cat $(VENV)/generate.log; exit 1; }
	$(PY) tools/check_operations.py

generate: $(GENERATED)/__init__.py

# --- package ----------------------------------------------------------------------------------
$(BIN)/.package-installed: $(GENERATED)/__init__.py pyproject.toml
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

install: $(BIN)/.package-installed

test: install $(NODE_TOOLS)
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check overlay tests tools/*.py bench
	$(BIN)/ruff format --check overlay tests tools/*.py bench
	$(BIN)/mypy overlay/telnyx_messages $(GENERATED)

demo: install $(NODE_TOOLS)
	$(PY) tools/demo.py

# Side-by-side ratios against raw httpx and the official SDK (installed here from the bench extra).
bench: install
	$(PY) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["bench"]))' > $(VENV)/bench-requirements.txt
	$(PY) -m pip install --quiet -r $(VENV)/bench-requirements.txt
	$(PY) bench/run.py --json bench/results/latest.json

build: install
	rm -rf dist
	$(PY) -m build --wheel --outdir dist . > $(VENV)/build.log 2>&1 || { cat $(VENV)/build.log; exit 1; }
	@ls dist/*.whl

clean:
	rm -rf $(VENV) $(GENERATED) $(SPEC) dist tools/node_modules
