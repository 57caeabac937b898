"""Committed notebooks carry no outputs, declare typed parameters, and are listed in the README."""

from pathlib import Path

import nbformat
import pytest

from workbench.params import declared_parameters

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
STUDY_NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_the_study_notebooks_exist():
    names = [p.stem for p in STUDY_NOTEBOOKS]
    assert names == ["00_data_quality", "01_reliability", "02_baseline", "03_effects",
                     "04_claims", "05_power", "06_delivery", "07_sensitivity"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_no_outputs_and_a_typed_parameters_cell(path):
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name
    params = declared_parameters(path)
    assert params, path.name
    if path in STUDY_NOTEBOOKS:  # the study, language and seed come from RUN/study.json
        assert "run_dir" in params and not {"study", "seed", "lang"} & set(params)


@pytest.mark.parametrize("path", STUDY_NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_parameters_are_documented(path):
    doc = (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")
    assert f"`{path.stem}`" in doc
    for name in declared_parameters(path):
        assert f"`{name}`" in doc, (path.stem, name)


@pytest.mark.parametrize("name", ["why_82_percent_improved", "reading_an_effect_estimate",
                                  "visits_and_improvement", "who_left"])
def test_training_notebooks_run_without_a_study(tmp_path, name):
    import papermill as pm

    out = tmp_path / f"{name}.ipynb"
    params = {"lang": "en", "seed": 3}
    if name == "visits_and_improvement":
        params["n_repeats"] = 30  # the repeated programs of the coverage section (CI time)
    if name == "who_left":
        params["m"] = 10  # imputations (CI time; the page's default is 20)
    if name == "why_82_percent_improved":
        params["interactive"] = False  # widgets need a frontend; headless runs skip them
    pm.execute_notebook(str(ROOT / "notebooks" / "training" / f"{name}.ipynb"), str(out),
                        parameters=params, cwd=str(tmp_path), kernel_name="python3",
                        progress_bar=False, execution_timeout=300)
    nb = nbformat.read(str(out), as_version=4)
    text = "\n".join(str(o.get("data", {}).get("text/plain", o.get("text", "")))
                     for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                 for o in c.outputs)
    assert images >= 1
    assert "Traceback" not in text
    if name == "why_82_percent_improved":
        assert "comparison" in text  # the shares of both groups are shown


@pytest.mark.parametrize("path", STUDY_NOTEBOOKS, ids=lambda p: p.stem)
def test_study_notebook_names_itself_for_its_status_file(path):
    """``RunFolder(..., notebook=STEM)``: a not-applicable status lands in status/STEM.json."""
    nb = nbformat.read(str(path), as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert f'notebook="{path.stem}"' in code
