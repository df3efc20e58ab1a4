# Ramp's commands. `make run` and `make test` set everything up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test setup worker clean

run: setup  ## set up and run Ramp with demo data at http://127.0.0.1:8000/
	$(PY) -m tutor.launch run $(ARGS)

test: setup  ## set up and run the whole test suite
	$(PY) -m tutor.launch test

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Ramp needs Python 3.11 (found " + sys.version.split()[0] + ")")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@# torch first and pinned, so nothing pulls a multi-GB CUDA build on a CPU machine.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

worker: setup  ## a Celery worker for both queues (on a GPU box: QUEUES=gpu)
	$(PY) -m celery -A tutor worker -Q $${QUEUES:-default,gpu} -c 1 --loglevel INFO

clean:
	rm -rf $(VENV) var
