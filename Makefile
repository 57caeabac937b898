# Survey Workbench: set up, run the bundled example, test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: setup bytecode demo test test-fast test-kernel test-slow lint lock bench lab clean zoo

KERNEL := $(VENV)/share/jupyter/kernels/survey-workbench/kernel.json

setup: $(VENV)/.installed $(KERNEL) bytecode

# our modules compiled once (only those changed since): each process of a run imports them,
# and where PYTHONDONTWRITEBYTECODE is set Python would compile them again every time
# (about 0.4 s of CPU per process on the county run)
bytecode: $(VENV)/.installed
	@$(BIN)/python -m compileall -q core survey analysis evaluation workbench >/dev/null

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

# a named Jupyter kernel inside the venv, so that JupyterLab offers "Python (Survey Workbench)"
$(KERNEL): $(VENV)/.installed
	$(BIN)/python -m ipykernel install --sys-prefix --name survey-workbench --display-name "Python (Survey Workbench)" >/dev/null

demo: setup  ## run the whole pipeline on the bundled county example
	$(BIN)/workbench run examples/county-cluster-trial

# two workers (pytest-xdist): the modules that share runs are one group each (xdist_group
# "examples", "zoo"), so a shared run is still made once
test: setup  ## run the whole test suite, every tier (no R needed)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

test-fast: setup  ## the fast tier: no Jupyter kernel, no long simulation (under a minute)
	$(BIN)/python -m pytest -q -m "not kernel and not slow"

test-kernel: setup  ## the tests that start Jupyter kernels (papermill, workbench run), not slow
	$(BIN)/python -m pytest -q -m "kernel and not slow"

test-slow: setup  ## long simulations, the full pipeline on the examples, the zoo
	$(BIN)/python -m pytest -q -m slow

zoo: setup  ## every study shape end to end (441 studies, hours; CI runs the pairwise set)
	WORKBENCH_ZOO=full $(BIN)/python -m pytest -q tests/test_zoo.py

lint: setup
	$(BIN)/ruff check .

lock: setup  ## re-resolve and pin the dependency versions
	$(BIN)/python -m pip freeze --exclude-editable | sed '/^survey-workbench/d' > constraints.txt.new
	mv constraints.txt.new constraints.txt

lab: setup  ## JupyterLab on the notebooks, with the survey-workbench kernel
	$(BIN)/jupyter lab notebooks/

bench: setup
	for b in bench/*.py; do $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
