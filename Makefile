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
# Where pinned documents are kept by sha256 (<sha256>.yml): upstream serves only its latest one.
SHARED_STORE := ../shared/spec/by-sha256
SPEC_STORE ?= $(if $(wildcard $(SHARED_STORE)),$(SHARED_STORE),)
# `make spec-check` writes the changelog here, as Markdown (a ready pull-request body).
SPEC_CHECK_REPORT ?= spec-check.md
SPEC_TOOL = $(PY) tools/spec.py $(if $(SPEC_STORE),--store $(SPEC_STORE),)

SPEC := openapi/messages.yml
LOCK := openapi/messages.lock.json
GENERATED := generated/telnyx_messages_api
# The generated package ships as telnyx_messages._api: in this tree a link (ignored by git) to it.
API_LINK := overlay/telnyx_messages/_api
TEMPLATES := $(shell find templates -type f)
NODE_TOOLS := tools/node_modules/.installed

.DELETE_ON_ERROR:

.PHONY: all spec spec-update spec-check print-spec-url generate install test lint demo mock build bench mutation clean

all: install

# --- tools ------------------------------------------------------------------------------------
$(BIN)/.dev-installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is required")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"  # 25.1 reads dependency groups (PEP 735)
	$(PY) -m pip install --quiet --group dev
	touch $@

# Prism (the mock API) and Redocly CLI (the spec diff), pinned in tools/package-lock.json.
$(NODE_TOOLS): tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# --- spec -------------------------------------------------------------------------------------
# The pinned document: the pulled copy, else the store, else upstream if it still serves those bytes.
spec: $(BIN)/.dev-installed
	$(SPEC_TOOL) pull --upstream $(SPEC_URL)

$(SPEC): $(LOCK) | $(BIN)/.dev-installed
	$(SPEC_TOOL) pull --upstream $(SPEC_URL)

# Print the classified changelog, re-pin, regenerate, and put the contract tests on the new code.
spec-update: $(BIN)/.dev-installed $(NODE_TOOLS)
	$(SPEC_TOOL) update $(SPEC_URL) --recorded-source $(SPEC_SOURCE)
	$(MAKE) --no-print-directory install
	@if $(BIN)/pytest -q -p no:cacheprovider tests/test_contract.py tests/test_operations.py tests/test_client.py; \
	then echo "spec-update: re-pinned, regenerated; the contract tests pass. Review, then commit $(LOCK)."; \
	else echo "spec-update: re-pinned, regenerated; the contract tests FAIL (above). Fix templates or overlay, or go back: make spec-update SPEC_URL=<the previous source>"; exit 1; fi

# Is upstream still the pin? tools/spec.py exits 0 (yes), 10 (harmless changes) or 20 (changes to
# review) and writes the changelog as Markdown; make itself can only exit 0 or 2, so scheduled CI
# calls the tool (.github/workflows/spec-check.yml).
spec-check: $(BIN)/.dev-installed $(NODE_TOOLS)
	$(SPEC_TOOL) check $(SPEC_URL) --report $(SPEC_CHECK_REPORT)

print-spec-url:
	@echo $(SPEC_URL)

# --- generation -------------------------------------------------------------------------------
# generation.yml: the generator's settings and the project's generation decisions, the one configuration.
$(GENERATED)/__init__.py: $(SPEC) generation.yml tools/generate.py $(TEMPLATES) $(BIN)/.dev-installed
	$(PY) tools/generate.py $(SPEC) $(GENERATED)
	ln -sfn ../../$(GENERATED) $(API_LINK)
	$(PY) tools/check_operations.py

generate: $(GENERATED)/__init__.py

# --- package ----------------------------------------------------------------------------------
$(BIN)/.package-installed: $(GENERATED)/__init__.py pyproject.toml $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

install: $(BIN)/.package-installed

# Every test, on TEST_WORKERS processes (pytest-xdist); `make test FAST=1` leaves out those marked slow
# (a few minutes less), for a quick local run.
# The suite's Python processes (its workers, each collection, the CLI and generator runs, the rerun under
# a later document) keep their bytecode under build/pycache, not beside the sources, even where
# PYTHONDONTWRITEBYTECODE is set: compiled anew in each, the sources were ~15% of the suite's CPU time.
# `--dist worksteal`: a worker that runs out of tests takes the other's last ones (with the default
# `load`, tests handed out early stay where they went: one worker ended 54 s after the other; with
# worksteal, 1 s).
# Three workers on a 2-core machine: a third of the suite's time is waiting (servers, subprocesses,
# sleeps a test is about), which a third worker fills (idle fresh clone: 316 s, against 390 s with 2).
# `--durations=25`: the slowest tests, named at the end of every run.
TEST_WORKERS ?= 3
test: install $(NODE_TOOLS)
	env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX=$(CURDIR)/build/pycache \
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal --durations=25 $(if $(FAST),-m "not slow",)

lint: install
	$(BIN)/ruff check overlay tests tools/*.py bench examples
	$(BIN)/ruff format --check overlay tests tools/*.py bench examples
	MYPYPATH=tools $(BIN)/mypy overlay/telnyx_messages examples bench

demo: install $(NODE_TOOLS)
	$(PY) tools/demo.py

# The local mock the README's Usage examples run against: Prism on 127.0.0.1, answering from the
# pinned spec's examples, in the foreground until Ctrl-C. `make mock MOCK_PORT=...` for another port.
MOCK_PORT ?= 4010
mock: $(SPEC) $(NODE_TOOLS)
	@echo "Mock of the Telnyx Messages API (Prism, $(SPEC)) on 127.0.0.1:$(MOCK_PORT); Ctrl-C stops it."
	@echo "In the shell that runs the examples:"
	@echo "  export TELNYX_BASE_URL=http://127.0.0.1:$(MOCK_PORT) TELNYX_API_KEY=any"
	@exec tools/node_modules/.bin/prism mock $(SPEC) -h 127.0.0.1 -p $(MOCK_PORT)

# Side-by-side ratios against raw httpx and the official SDK (installed here from the bench extra).
bench: install
	$(PY) -m pip install --quiet --group bench
	$(PY) bench/run.py --json bench/results/latest.json

# Mutation testing of the overlay (tools/mutation.py; build/mutation/ keeps the results, so a second
# run retests only what changed). Takes a long while: not part of `make test`.
mutation: install
	$(PY) tools/mutation.py

build: install
	rm -rf dist
	$(PY) -m build --wheel --outdir dist . > $(VENV)/build.log 2>&1 || { cat $(VENV)/build.log; exit 1; }
	@ls dist/*.whl

clean:
	rm -rf $(VENV) $(GENERATED) $(API_LINK) $(SPEC) dist tools/node_modules
