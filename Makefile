# PeaceSim developer commands.  Main entry points: `make run`, `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
PEACESIM := $(VENV)/bin/peacesim
# Exact versions of everything installed: requirements/*.lock (`make lock` upgrades them).
# run.lock: what running needs; viz.lock: + the trainer app; dev.lock: + tests, Dask, analysis.
RUN_STAMP := $(VENV)/.installed-run
VIZ_STAMP := $(VENV)/.installed-viz
DEV_STAMP := $(VENV)/.installed-dev
# Scenario for `make run`; extra CLI flags via ARGS, e.g. make run ARGS="--seed 3"
SCENARIO ?= $(firstword $(wildcard scenarios/baseline.toml) scenarios/epstein_model1.toml)
ARGS ?=
PYTEST_ARGS ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1

# If the venv is missing, broken or older than 3.12, force a (re)build even
# when the stamps look up to date.
VENV_OK := $(shell $(PY) -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1 && echo yes)
ifneq ($(VENV_OK),yes)
$(RUN_STAMP) $(VIZ_STAMP) $(DEV_STAMP): FORCE
endif

.PHONY: help venv run test lint bench viz lock clean FORCE

help:
	@echo "make run    - run the default scenario ($(SCENARIO)) and print where results went"
	@echo "make test   - lint (ruff) and run the test suite (pytest, 2 workers)"
	@echo "make lint   - ruff check only"
	@echo "make bench  - performance benchmark (peacesim bench)"
	@echo "make viz    - trainer app in the browser (peacesim viz; HOST=, PORT=, SCENARIO=, ARGS=)"
	@echo "make lock   - upgrade the pinned versions in requirements/*.lock"
	@echo "make venv   - create/update $(VENV) with what running needs (done by the targets above)"
	@echo "make clean  - remove the install stamps and caches (keeps $(VENV) and results/)"

venv: $(RUN_STAMP)

# Create the venv with a Python >= 3.12 (PATH first, then pyenv), then install one lock file
# and PeaceSim itself (editable, no further dependencies: the lock file has them all).
define install_lock
	@if ! $(PY) -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1; then \
	    py="$$(bash .ci/find-python.sh)"; \
	    echo "Creating $(VENV) with $$py ($$("$$py" -V 2>&1))"; \
	    "$$py" -m venv --clear $(VENV); \
	fi
	@echo "Installing the pinned versions of $(1) into $(VENV) ..."
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r $(1)
	$(PY) -m pip install --quiet --no-deps -e .
endef

$(RUN_STAMP): requirements/run.lock pyproject.toml $(wildcard sim/__init__.py)
	$(call install_lock,requirements/run.lock)
	@touch $@

$(VIZ_STAMP): requirements/viz.lock pyproject.toml $(wildcard sim/__init__.py)
	$(call install_lock,requirements/viz.lock)
	@touch $@ $(RUN_STAMP)

$(DEV_STAMP): requirements/dev.lock pyproject.toml $(wildcard sim/__init__.py)
	$(call install_lock,requirements/dev.lock)
	@touch $@ $(VIZ_STAMP) $(RUN_STAMP)

run: $(RUN_STAMP)
	@log="$$(mktemp)"; trap 'rm -f "$$log"' EXIT; \
	$(PEACESIM) run $(SCENARIO) $(ARGS) | tee "$$log"; \
	echo "Results are in: $$(tail -n 1 "$$log")"

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check sim tests

test: lint
	$(PY) -m pytest -n 2 -q $(PYTEST_ARGS)

bench: $(RUN_STAMP)
	$(PEACESIM) bench

# Trainer app: make viz [SCENARIO=scenarios/liberia.toml] [HOST=0.0.0.0] [PORT=8765]
#   [ARGS="--no-open --allow-host trainer-pc.local"]
# HOST counts only on the make command line: conda and some shells export a HOST of their own,
# which must not move the server off this machine (0.0.0.0 exposes it to the network).
ifneq ($(origin HOST),command line)
HOST := localhost
endif
PORT ?= 8765
viz: $(VIZ_STAMP)
	$(PEACESIM) viz $(SCENARIO) --host $(HOST) --port $(PORT) $(ARGS)

# Re-resolve every dependency to its newest allowed version, consistently across the three
# lock files (run and viz are constrained by dev), then reinstall: make lock && make test
LOCK := $(VENV)/bin/uv pip compile pyproject.toml --python-version 3.12 --quiet --no-header \
	--annotation-style line --upgrade
lock: $(DEV_STAMP)
	$(LOCK) --extra dev -o requirements/dev.lock
	$(LOCK) -c requirements/dev.lock -o requirements/run.lock
	$(LOCK) --extra viz -c requirements/dev.lock -o requirements/viz.lock
	@echo "requirements/*.lock updated; review the diff, then run make test"

clean:
	rm -f $(RUN_STAMP) $(VIZ_STAMP) $(DEV_STAMP) $(VENV)/.installed
	rm -rf .pytest_cache .ruff_cache .hypothesis build dist *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf
	find . -path ./$(VENV) -prune -o \( -name '*.nbi' -o -name '*.nbc' \) -type f -print0 | xargs -0 rm -f
