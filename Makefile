# PeaceSim developer commands.  Main entry points: `make run`, `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
PEACESIM := $(VENV)/bin/peacesim
STAMP := $(VENV)/.installed
# Scenario for `make run`; extra CLI flags via ARGS, e.g. make run ARGS="--seed 3"
SCENARIO ?= $(firstword $(wildcard scenarios/baseline.toml) scenarios/epstein_model1.toml)
ARGS ?=
PYTEST_ARGS ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1

# If the venv is missing, broken or older than 3.12, force a (re)build even
# when the stamp looks up to date.
VENV_OK := $(shell $(PY) -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1 && echo yes)
ifneq ($(VENV_OK),yes)
$(STAMP): FORCE
endif

.PHONY: help venv run test lint bench viz clean FORCE

help:
	@echo "make run    - run the default scenario ($(SCENARIO)) and print where results went"
	@echo "make test   - lint (ruff) and run the test suite (pytest, 2 workers)"
	@echo "make lint   - ruff check only"
	@echo "make bench  - performance benchmark (peacesim bench)"
	@echo "make viz    - trainer app in the browser (peacesim viz; HOST=, PORT=, SCENARIO=, ARGS=)"
	@echo "make venv   - create/update $(VENV) (done automatically by the targets above)"
	@echo "make clean  - remove the install stamp and caches (keeps $(VENV) and results/)"

venv: $(STAMP)

# sim/__init__.py: reinstall once if the venv was set up before the package existed.
$(STAMP): pyproject.toml $(wildcard sim/__init__.py)
	@if ! $(PY) -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1; then \
	    py="$$(bash .ci/find-python.sh)"; \
	    echo "Creating $(VENV) with $$py ($$("$$py" -V 2>&1))"; \
	    "$$py" -m venv --clear $(VENV); \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install -e '.[dev,viz]'
	@touch $@

run: venv
	@log="$$(mktemp)"; trap 'rm -f "$$log"' EXIT; \
	$(PEACESIM) run $(SCENARIO) $(ARGS) | tee "$$log"; \
	echo "Results are in: $$(tail -n 1 "$$log")"

lint: venv
	$(VENV)/bin/ruff check sim tests

test: lint
	$(PY) -m pytest -n 2 -q $(PYTEST_ARGS)

bench: venv
	$(PEACESIM) bench

# Trainer app: make viz [SCENARIO=scenarios/liberia.toml] [HOST=0.0.0.0] [PORT=8765]
#   [ARGS="--no-open --allow-host trainer-pc.local"]
# HOST counts only on the make command line: conda and some shells export a HOST of their own,
# which must not move the server off this machine (0.0.0.0 exposes it to the network).
ifneq ($(origin HOST),command line)
HOST := localhost
endif
PORT ?= 8765
viz: venv
	$(PEACESIM) viz $(SCENARIO) --host $(HOST) --port $(PORT) $(ARGS)

clean:
	rm -f $(STAMP)
	rm -rf .pytest_cache .ruff_cache .hypothesis build dist *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf
	find . -path ./$(VENV) -prune -o \( -name '*.nbi' -o -name '*.nbc' \) -type f -print0 | xargs -0 rm -f
