"""The typed parameter contract of `workbench run -p`."""

import nbformat
import pytest

from workbench.params import (
    ParameterError,
    check_injection_is_literal,
    convert_value,
    declared_parameters,
    parse_cli_parameters,
)


def _nb(tmp_path, source, name="nb.ipynb"):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell("print(school)")]
    path = tmp_path / name
    nbformat.write(nb, str(path))
    return path


def test_declared_parameters_read_types_defaults_and_help(tmp_path):
    path = _nb(tmp_path, 'school: str = "S01"  # school id\nalpha: float = 0.05\nn_boot: int = 10\n')
    ps = declared_parameters(path)
    assert {k: (p.type, p.default) for k, p in ps.items()} == {
        "school": ("str", "S01"), "alpha": ("float", 0.05), "n_boot": ("int", 10)}
    assert ps["school"].help == "school id"


def test_untyped_parameter_is_refused(tmp_path):
    path = _nb(tmp_path, "alpha = 0.05\n")
    with pytest.raises(ParameterError) as err:
        declared_parameters(path)
    assert err.value.code == "NOTEBOOK_UNTYPED_PARAMETER"


def test_identifiers_stay_strings_and_numbers_are_checked(tmp_path):
    ps = declared_parameters(_nb(tmp_path, 'school: str = ""\nn_boot: int = 10\nflag: bool = False\n'))
    declared = {k: [p] for k, p in ps.items()}
    got = parse_cli_parameters(["school=007", "n_boot=20", "flag=true"], declared)
    assert got == {"school": "007", "n_boot": 20, "flag": True}
    with pytest.raises(ParameterError) as err:
        parse_cli_parameters(["n_boot=many"], declared)
    assert err.value.code == "PARAMETER_TYPE" and "n_boot" in str(err.value)
    with pytest.raises(ParameterError) as err:
        parse_cli_parameters(["schol=1"], declared)
    assert err.value.code == "PARAMETER_UNKNOWN" and "did you mean 'school'" in str(err.value)
    with pytest.raises(ParameterError):
        parse_cli_parameters(["school"], declared)


@pytest.mark.parametrize("raw,typ", [("1.5", "int"), ("nan", "float"), ("maybe", "bool"),
                                     ("{1:2}", "dict"), ("[1", "list")])
def test_bad_values_are_refused(raw, typ):
    with pytest.raises(ParameterError):
        convert_value(raw, typ, name="x")


def test_hostile_string_is_rendered_as_a_literal():
    evil = 'x"); import os; os.system("touch /tmp/pwned")  #'
    src = check_injection_is_literal({"name": evil, "lines": "a\nb", "zh": "张三"})
    namespace = {}
    exec(compile(src, "<injected>", "exec"), {"__builtins__": {}}, namespace)
    assert namespace == {"name": evil, "lines": "a\nb", "zh": "张三"}


@pytest.mark.parametrize("pair", ["lang=fr", "n_sims=0", "power_target=1.5", "power_target=0",
                                  "seed=-1", "seed=4294967296", "lang=" + "x" * 30000])
def test_implausible_values_are_refused_before_anything_runs(tmp_path, pair):
    src = ('lang: str = ""\nseed: int = 1\nn_sims: int = 1000\npower_target: float = 0.8\n')
    declared = {k: [p] for k, p in declared_parameters(_nb(tmp_path, src)).items()}
    with pytest.raises(ParameterError) as err:
        parse_cli_parameters([pair], declared)
    assert err.value.code == "PARAMETER_VALUE"
    assert len(str(err.value)) < 300  # a 30,000-character value is not echoed back


def test_plausible_values_pass(tmp_path):
    src = ('lang: str = ""\nseed: int = 1\nn_sims: int = 1000\npower_target: float = 0.8\n')
    declared = {k: [p] for k, p in declared_parameters(_nb(tmp_path, src)).items()}
    got = parse_cli_parameters(["lang=en", "seed=0", "n_sims=1", "power_target=0.9"], declared)
    assert got == {"lang": "en", "seed": 0, "n_sims": 1, "power_target": 0.9}
