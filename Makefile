# negsim: set-up and everyday commands. `make run` and `make test` are the Quick start.
SHELL := /bin/bash
VENV  ?= .venv
BIN   := $(VENV)/bin
RUNS  ?= 2000
SEED  ?= 1

.PHONY: install run test lint bench clean-venv

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@PY=$$(tools/find-python.sh) || exit 1; \
	echo "Using $$PY"; \
	[ -x $(BIN)/python ] || $$PY -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m sim.model.warmup scenarios/baseline.yaml
	@touch $@

run: install
	$(BIN)/negsim run scenarios/baseline.yaml --runs $(RUNS) --seed $(SEED)

test: install lint
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

lint: install
	$(BIN)/ruff check sim tests benchmarks

bench: install
	$(BIN)/python benchmarks/bench_batch.py

clean-venv:
	rm -rf $(VENV)
