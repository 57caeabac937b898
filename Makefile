# Survey Workbench: set up, run the bundled example, test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: setup demo test lint lock bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

demo: setup  ## run the whole pipeline on the bundled county example
	$(BIN)/workbench run examples/county-cluster-trial

test: setup  ## run the test suite (no R needed)
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .

lock: setup  ## re-resolve and pin the dependency versions
	$(BIN)/python -m pip freeze --exclude-editable | sed '/^survey-workbench/d' > constraints.txt.new
	mv constraints.txt.new constraints.txt

bench: setup
	for b in bench/*.py; do $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
