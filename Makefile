# The two Quick-start commands, and a few helpers. Every target sets up what it needs.
SHELL := /bin/bash
VENV := .venv
UYUM := $(VENV)/bin/uyum

.PHONY: run test setup setup-dev lint bench lock clean

run: setup  ## set up (venvs, Rasa model, index) and run everything on the embedded default
	$(UYUM) run

test: setup-dev  ## set up with test extras, then lint, type-check and run the whole test suite
	$(UYUM) validate
	$(UYUM) train
	$(UYUM) kb build
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/pytest

setup:
	@scripts/setup.sh

setup-dev:
	@scripts/setup.sh --dev

lint: setup-dev
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/mypy .

bench: setup-dev  ## benchmark scripts; figures printed and written to bench/results/
	$(UYUM) train
	$(UYUM) kb build
	$(VENV)/bin/python -m bench.kb_search
	$(VENV)/bin/python -m bench.nlu_accuracy
	$(VENV)/bin/python -m bench.message_latency

lock:  ## re-resolve requirements/*.in into the lock files
	scripts/lock.sh

clean:
	rm -rf var models .mypy_cache .ruff_cache .pytest_cache
