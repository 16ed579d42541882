# Two commands on a fresh clone: `make run` (the pipeline) and `make test` (the suite).
# Both create or reuse .venv and install the exact versions of requirements.lock.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml 2>/dev/null | md5sum | cut -c1-12)

export PATH := $(BIN):$(PATH)
export GX_ANALYTICS_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: venv data run test ui lock clean-venv

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

run: data
	dvc repro

test: venv
	pytest

# MLflow UI over the local store: experiments, nested trial runs, registered models and aliases.
UI_PORT ?= 5000
ui: venv
	mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlruns/mlflow.db --host 127.0.0.1 --port $(UI_PORT)

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
