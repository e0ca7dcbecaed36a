# The commands the README names. `make test` and `make cli` work on a fresh
# clone with Python 3.10+ and either Pulumi 3.272+ on PATH or Go 1.26+.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
# Reinstall when the package's metadata changes; the install is editable, so
# code changes need nothing.
INSTALLED := $(VENV)/.installed
TESTS ?= tests
PYTEST_ARGS ?=

.PHONY: help venv install cli test lint demo demo-down bench chaos goldens

help:
	@echo "make venv       create the virtualenv $(VENV)"
	@echo "make install    install the package with its dev tools into $(VENV)"
	@echo "make cli        find or build the Pulumi CLI (see scripts/get-pulumi.sh)"
	@echo "make test       install, get the CLI, run the suite (TESTS=..., PYTEST_ARGS=...)"
	@echo "make lint       ruff and mypy"
	@echo "make demo       emulator + pulumi up of examples/quickstart"
	@echo "make demo-down  destroy the demo stack and stop the emulator"
	@echo "make bench      fleet benchmarks against the emulator (BENCH_ARGS=...)"
	@echo "make chaos      the fleet through faults, with counts (CHAOS_ARGS=...)"
	@echo "make goldens    record the preview-report goldens again with the real CLI"

venv: $(VENV_PYTHON)

$(VENV_PYTHON):
	$(PYTHON) -m venv $(VENV)

install: $(INSTALLED)

$(INSTALLED): pyproject.toml | $(VENV_PYTHON)
	PIP_DISABLE_PIP_VERSION_CHECK=1 $(VENV_PYTHON) -m pip install -e '.[dev]'
	touch $@

cli:
	@bash scripts/get-pulumi.sh

# The CLI's folder goes first on PATH, and into PULUMI_INFRAHUB_CLI_BIN for the
# end-to-end fixtures, which fail (never skip) without it.
test: install
	bin="$$(bash scripts/get-pulumi.sh)"; \
	export PULUMI_INFRAHUB_CLI_BIN="$$bin" PATH="$$bin:$$PATH"; \
	$(VENV_PYTHON) -m pytest $(TESTS) $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Emulator in the background, state under .state/demo; see scripts/demo.sh.
demo: install
	@bash scripts/demo.sh up

demo-down:
	@bash scripts/demo.sh down

# The fleet benchmarks and the fault runs drive the real CLI against the
# emulator; figures go to .bench/ as JSON (BENCH_ARGS / CHAOS_ARGS: --help).
bench: install
	bin="$$(bash scripts/get-pulumi.sh)"; \
	PULUMI_INFRAHUB_CLI_BIN="$$bin" $(VENV_PYTHON) -m bench.run $(BENCH_ARGS)

chaos: install
	bin="$$(bash scripts/get-pulumi.sh)"; \
	PULUMI_INFRAHUB_CLI_BIN="$$bin" $(VENV_PYTHON) -m bench.chaos $(CHAOS_ARGS)

# Real previews against the emulator, recorded as the preview-report goldens
# (tests/report/golden/); review the diff before committing it.
goldens: install
	bin="$$(bash scripts/get-pulumi.sh)"; \
	PULUMI_INFRAHUB_CLI_BIN="$$bin" $(VENV_PYTHON) tests/report/regenerate_goldens.py
