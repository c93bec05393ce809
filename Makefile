# The README's two commands are `make book` and `make test`. Both create the virtual
# environment .venv on first use (and again when requirements change).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The Jupyter kernel is started as `python` from PATH: make that the venv's interpreter.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: book test lint format benchmark seeds clean colab-venv

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

## Build the website into _build/html (executes every notebook; cached between builds).
book: $(STAMP)
	$(BIN)/jupyter-book build -W -n --keep-going .

## Unit tests, nbval over every notebook, lint, and the zero-warning book build.
test: $(STAMP)
	$(BIN)/python -m pytest

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

## Every chapter again with other base seeds (3 and 6): are the asserted claims robust?
seeds: $(STAMP)
	REGBOOK_SEED=3 $(BIN)/python scripts/benchmark.py
	REGBOOK_SEED=6 $(BIN)/python scripts/benchmark.py

## A second environment with Colab's TensorFlow and Keras (not the CPU pins of .venv), in
## which tests/test_colab_versions.py runs chapter 1. Created once, then reused.
COLAB_VENV  := .venv-colab
COLAB_PINS  := "tensorflow-cpu==2.20.*" "keras==3.13.*"
COLAB_STAMP := $(COLAB_VENV)/.installed

$(COLAB_STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(COLAB_VENV)/bin/python -m pip install --quiet $(COLAB_PINS) -e . nbclient ipykernel
	touch $(COLAB_STAMP)

colab-venv: $(COLAB_STAMP)

clean:
	rm -rf _build .pytest_cache
