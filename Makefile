# Two set-up commands: `make demo` runs the quickstart, `make test` runs the test suite.
# Each creates .venv on first use and installs the package from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast lint docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,frameworks,methods,mlflow]'
	touch $@

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[docs]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/raytune-hpo run configs/quickstart.yaml --overwrite

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

# Unit and config tests only (no Ray experiment runs): about a minute, for a change to a pure module.
test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest tests/unit tests/test_configs.py

# Lint, formatting and static types ([tool.mypy] in pyproject.toml); .ci/run runs it before the tests.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check raytune_hpo tests experiments docs
	$(BIN)/ruff format --check raytune_hpo tests experiments docs
	$(BIN)/mypy raytune_hpo

# The documentation site from docs/ into docs/site/ (git-ignored), strictly: a warning (a broken
# link or anchor, a page missing from the nav, a configuration reference out of date) fails it.
docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --config-file docs/mkdocs.yml

clean:
	rm -rf $(VENV)
