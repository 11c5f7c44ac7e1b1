# Observational-scaling book: `make book` builds everything, `make test` checks everything.
# Every target creates the virtual environment first if it is missing.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NAME ?= 01_capability_space
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help env data book clean chapter test test-fast bench lab

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-lock.txt pyproject.toml package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js (it installs MathJax, which the book serves itself)"; exit 2; }
	npm ci --no-audit --no-fund --silent
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet -r requirements.txt -c requirements-lock.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

env: $(STAMP)  ## create .venv, install the pinned dependencies and the osl library, and MathJax (npm)

data: $(STAMP)  ## fetch and verify the data files (uses $$OSL_DATA_MIRROR if set)
	$(BIN)/python -m osl.data fetch

clean:  ## remove every build product (book, results, figures, execution cache)
	rm -rf _build

book: data clean  ## build the whole book strictly from clean into _build/html
	$(BIN)/python -m osl.build book
	@echo "Open _build/html/index.html"

# (the chapter's kernel fetches and verifies the data files it reads, as `make data` would)
chapter: $(STAMP)  ## execute and build one chapter alone: make chapter NAME=01_capability_space
	$(BIN)/python -m osl.build chapter $(NAME)

test: data  ## unit tests, notebook/TOC checks, strict book build and browser check
	$(BIN)/python -m pytest

test-fast: data  ## the unit tests only (no book build, no browser)
	$(BIN)/python -m pytest -m "not book and not browser"

bench: data  ## benchmark: cold book build, per-chapter execution, one fit, 1,000 bootstrap refits
	$(BIN)/python -m osl.bench

lab: data  ## open the chapters in JupyterLab (jupytext pairs .md and .ipynb)
	$(BIN)/python -m pip install --quiet "jupyterlab==4.6.6" -c requirements-lock.txt
	$(BIN)/jupyter lab notebooks
