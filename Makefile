# The README's two commands are `make book` and `make test`. Both create the virtual
# environment .venv on first use (and again when requirements change); `make test` also
# creates .venv-colab, Colab's environment (see colab-venv below).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The Jupyter kernel is started as `python` from PATH: make that the venv's interpreter.
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Colab's environment (see colab-venv below).
COLAB_VENV  := .venv-colab
COLAB_BIN   := $(COLAB_VENV)/bin
COLAB_PINS  := requirements-colab.txt
COLAB_STAMP := $(COLAB_VENV)/.installed
COLAB_PKG   := $(COLAB_VENV)/.regbook
# Python 3.13 as `python3.13`, else pyenv's 3.13.x; or `make COLAB_PYTHON=/path/python`.
ifndef COLAB_PYTHON
COLAB_PYTHON := $(shell python3.13 -c 'import sys; print(sys.executable)' 2>/dev/null \
  || PYENV_VERSION=$$(pyenv versions --bare 2>/dev/null | grep -m1 '^3\.13') \
     pyenv which python 2>/dev/null)
endif
# nbval's base seed: untuned, from the commit (0-9999); `REGBOOK_SEED=<int> make` wins.
ifndef REGBOOK_SEED
REGBOOK_SEED := $(shell echo $$(( 0x$$(git rev-parse --short=7 HEAD 2>/dev/null \
  || echo 0) % 10000 )))
endif
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

.PHONY: book test test-colab lint format benchmark benchmark-training benchmark-distributed claims seeds clean colab-venv

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

## Build the website into _build/html (executes every notebook; cached between builds).
## Then the Colab copies of the notebooks (scripts/colab_copies.py), into _build/html/colab.
book: $(STAMP)
	$(BIN)/jupyter-book build -W -n --keep-going .
	$(BIN)/python scripts/colab_copies.py

## CI's command, in two halves that each execute every notebook once: tests/ in .venv
## (unit tests, hygiene, lint, the zero-warning book build with the default seeds, the
## browser), then, on Colab's packages, the unit tests (COLAB_UNIT) and nbval over every
## notebook with an untuned base seed (test-colab, below). Both halves always run; either failing fails the target.
test: $(STAMP) $(COLAB_PKG)
	@echo "make test at $(COMMIT): nbval's base seed is REGBOOK_SEED=$(REGBOOK_SEED)"
	@status=0; \
	echo "== 1/2: tests/ in $(VENV) (default seeds)"; \
	env -u REGBOOK_SEED $(BIN)/python -m pytest || status=1; \
	echo "== 2/2: unit tests, then nbval, in $(COLAB_VENV), REGBOOK_SEED=$(REGBOOK_SEED)"; \
	$(COLAB_UNIT) || status=1; \
	$(COLAB_NBVAL) || status=1; \
	[ $$status = 0 ] || echo "make test FAILED (nbval's REGBOOK_SEED=$(REGBOOK_SEED))"; \
	exit $$status

lint: $(STAMP)
	$(BIN)/ruff check regbook tests notebooks scripts
	$(BIN)/ruff format --check regbook tests notebooks scripts

format: $(STAMP)
	$(BIN)/python scripts/clean_notebooks.py
	$(BIN)/ruff format regbook tests notebooks scripts
	$(BIN)/ruff check --fix regbook tests notebooks scripts

## Time every notebook (quick profile) and print the table with the budgets.
benchmark: $(STAMP)
	$(BIN)/python scripts/benchmark.py

## Population training against one model.fit per model (8 and 20 small MLPs).
benchmark-training: $(STAMP)
	$(BIN)/python scripts/benchmark_training.py

## Trials per minute of chapter 10's search, one process against a chief and 2 workers
## (recorded in benchmarks/distributed-search.json, which chapter 10 quotes).
benchmark-distributed: $(STAMP)
	$(BIN)/python scripts/benchmark_distributed.py

## The evidence index in the terminal: every claim the executed notebooks recorded.
claims: $(STAMP)
	$(BIN)/python scripts/claims.py

## Are the claims robust? nbval on Colab's packages at several base seeds (SEEDS), each
## run recording its claims in _build/claims-seeds/<seed>; then, per claim, the failed
## runs and the estimated chance of failing at a fresh seed (worst first; > 1 % flagged).
## Slow: every notebook once per seed. One chapter: make seeds NOTEBOOKS=notebooks/07_...
SEEDS ?= 101 2202 3303
seeds: $(STAMP) $(COLAB_PKG)
	@for s in $(SEEDS); do \
	  echo "== nbval at REGBOOK_SEED=$$s"; \
	  REGBOOK_SEED=$$s REGBOOK_CLAIMS_DIR=$(CURDIR)/_build/claims-seeds/$$s \
	    PATH="$(CURDIR)/$(COLAB_BIN):$$PATH" $(COLAB_BIN)/python -m pytest -q $(NOTEBOOKS); \
	done; \
	$(BIN)/python scripts/claims.py --robustness $(addprefix _build/claims-seeds/,$(SEEDS))

## Colab's environment, .venv-colab: Python 3.13 and exactly the packages Colab ships
## (requirements-colab.txt), plus what its install cell adds (regbook, installed from
## this checkout as a package, not editable, with keras-tuner) and the test tools.
$(COLAB_STAMP): $(COLAB_PINS) pyproject.toml
	@test -n "$(COLAB_PYTHON)" || { echo "Colab's Python 3.13 not found: install" \
	  "it, or run make COLAB_PYTHON=/path/to/python3.13 ..." >&2; exit 1; }
	rm -rf $(COLAB_VENV)
	$(COLAB_PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_BIN)/python -m pip install --quiet --upgrade pip
	$(copy_regbook)
	$(COLAB_BIN)/python -m pip install --quiet -r $(COLAB_PINS) -c $(COLAB_PINS) \
	  pytest nbval ipykernel nbclient $(COLAB_VENV)/src
	touch $@

# regbook is built from a copy of its sources (a build in the checkout would leave
# build/ behind), and reinstalled without its dependencies when the sources change.
define copy_regbook
rm -rf $(COLAB_VENV)/src && mkdir -p $(COLAB_VENV)/src
cp -r pyproject.toml README.md LICENSE regbook $(COLAB_VENV)/src/
endef
$(COLAB_PKG): $(COLAB_STAMP) pyproject.toml README.md LICENSE \
  $(shell find regbook -name '*.py' -not -path '*/__pycache__/*')
	$(copy_regbook)
	$(COLAB_BIN)/python -m pip install --quiet --no-deps --force-reinstall \
	  $(COLAB_VENV)/src
	touch $@

colab-venv: $(COLAB_PKG)

## nbval over every notebook in .venv-colab, untuned seed (the 2nd half of make test).
## One chapter: make test-colab NOTEBOOKS=notebooks/11_case-study-cnn.ipynb
NOTEBOOKS ?= notebooks
# Its claims are recorded apart (_build/claims-colab), so the book's evidence index keeps
# the default seeds' records.
COLAB_NBVAL = REGBOOK_SEED=$(REGBOOK_SEED) REGBOOK_CLAIMS_DIR=$(CURDIR)/_build/claims-colab \
  PATH="$(CURDIR)/$(COLAB_BIN):$$PATH" \
  $(COLAB_BIN)/python -m pytest tests/test_colab_versions.py $(NOTEBOOKS)
# The unit tests on Colab's packages too (regbook from site-packages, as Colab installs
# it); the slow ones (book build, browser, processes) and the lint run in .venv only.
COLAB_UNIT = PATH="$(CURDIR)/$(COLAB_BIN):$$PATH" $(COLAB_BIN)/python -m pytest -q \
  -m "not slow" tests
test-colab: $(COLAB_PKG)
	@echo "nbval on Colab's packages at $(COMMIT) with REGBOOK_SEED=$(REGBOOK_SEED)"
	$(COLAB_NBVAL)

clean:
	rm -rf _build .pytest_cache
