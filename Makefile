# wardanalysis: every target sets up what it needs. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Every install is pinned by constraints.txt (`make lock` refreshes it); as an environment variable
# the constraint reaches pip's isolated build of the editable install too.
PIP    := PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/python -m pip --disable-pip-version-check -q
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider
# Jupyter and matplotlib write caches under $HOME; headless plotting everywhere.
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.DEFAULT_GOAL := help
.PHONY: help report test test-unit test-data test-reference test-notebooks test-e2e notebooks \
        check bench e2e-loop lint format checksums datadict clean venv venv-test lock

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install -e '.[test]'
	@touch $@ $(VENV)/.installed

venv: $(VENV)/.installed ## Create .venv and install the package

venv-test: $(VENV)/.installed-test ## Create .venv with the test extras

report: venv ## Main job: run every notebook for every fiscal year in ja and en into reports/, then the committee packet (PDF)
	$(BIN)/wardanalysis run
	$(BIN)/wardanalysis packet

check: venv ## Validate the shipped data (or DATA=path/to/file-or-dir)
	$(BIN)/wardanalysis check $(DATA)

# Every tier in one pytest session, spread over the cores by pytest-xdist. Each file stays on one
# worker (--dist loadfile: its module fixtures are made once, and nbval runs a notebook's cells in
# order, in one kernel). xdist hands out files with the most tests first (its default), so the
# long end-to-end files, which have few tests, run beside the many short ones; handing them out
# first (--no-loadscope-reorder) was measured slower: 447 s against 376 s on two cores.
NBVAL := --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --ignore=tests/e2e/fixtures

test: venv-test ## Run every test tier: lint, then unit, data, reference, notebooks (nbval), end-to-end
	$(BIN)/ruff check wardanalysis tests benchmarks tools
	$(BIN)/lint-imports
	$(PYTEST) -n auto --dist loadfile $(NBVAL) -q \
	  tests/e2e notebooks tests/notebooks tests/unit tests/data tests/reference

test-unit: venv-test ## Unit tests only
	$(PYTEST) tests/unit -q

test-data: venv-test ## Tests of the shipped data only
	$(PYTEST) tests/data -q

test-reference: venv-test ## Models against independent computations only
	$(PYTEST) tests/reference -q

test-notebooks: venv-test ## nbval on the committed notebooks, and the notebook tests
	@if ls notebooks/*.ipynb >/dev/null 2>&1; then \
	  $(PYTEST) $(NBVAL) notebooks -q; \
	else echo "no notebooks committed yet: nbval skipped"; fi
	@if [ -d tests/notebooks ]; then $(PYTEST) tests/notebooks -q; fi

test-e2e: venv-test ## End-to-end batch tests only
	$(PYTEST) -n auto --dist loadfile tests/e2e -q

notebooks: venv ## Re-execute the committed notebooks in place (default parameters) with papermill
	$(BIN)/python -m wardanalysis.refresh

bench: venv ## Benchmark the batch against the obvious papermill + nbconvert loop
	$(BIN)/python benchmarks/bench_batch.py

e2e-loop: venv-test ## Run the end-to-end suite RUNS times in a row (20), as make test runs it; count failures
	$(BIN)/python benchmarks/e2e_loop.py --runs $(or $(RUNS),20)

lint: venv-test ## ruff lint, and the import contract (layers downwards only, no circles)
	$(BIN)/ruff check wardanalysis tests benchmarks tools
	$(BIN)/lint-imports

format: venv-test ## ruff format
	$(BIN)/ruff format wardanalysis tests benchmarks tools

lock: ## Refresh constraints.txt (and environment.yml's pins) to the newest versions pyproject.toml allows
	$(PYTHON) tools/lock.py

datadict: venv ## Regenerate docs/data_dictionary.md from the dataset descriptors
	$(BIN)/python -m wardanalysis.data.datadict > docs/data_dictionary.md

checksums: ## Rewrite data/SHA256SUMS after a deliberate change to shipped data
	cd data && sha256sum $$(find . -type f \( -name '*.csv' -o -name '*.yml' -o -name '*.txt' -o -name '*.md' \) | sort) > SHA256SUMS

clean: ## Remove the virtualenv, caches and reports
	rm -rf $(VENV) reports .pytest_cache .ruff_cache .hypothesis
