"""Fuzzing the ``-p`` parameter parser, and parameters as data, never code (issue 6 §2, §5).

Example counts are modest by default; ``WORKBENCH_FUZZ_EXAMPLES=5000`` runs longer.
"""

from __future__ import annotations

import ast
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from workbench.params import (
    SUPPORTED_TYPES,
    Parameter,
    ParameterError,
    check_injection_is_literal,
    convert_value,
    parse_cli_parameters,
)

EXAMPLES = int(os.environ.get("WORKBENCH_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True).filter(
    lambda s: s.isidentifier() and not __import__("keyword").iskeyword(s))
# text as the command line can deliver it: any Unicode, lone surrogates (undecodable bytes
# under surrogateescape) and quotes, backslashes, newlines and code-like fragments
hostile = st.sampled_from(['"', "'", '"""', "'''", "\\", "\n", "\r", "#", ")", "(", ";",
                           "import os", 'os.system("touch pwned")', "__import__('os')",
                           "\u2028", "\x00", "{", "}", "=", "NaN", "Infinity", "007"])
texts = st.lists(st.one_of(st.text(), hostile, st.characters(codec=None)),
                 max_size=6).map("".join)
# JSON-ish text for list/dict parameters, with the shapes that break naive parsers:
# deep nesting, integers beyond Python's 4300-digit limit, NaN/Infinity, escaped surrogates
json_texts = st.one_of(
    texts,
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
    st.integers(4000, 6000).map(lambda n: "[" + "7" * n + "]"),
    st.sampled_from(["[NaN]", "[Infinity]", "[-Infinity]", '{"a": NaN}', '["\\ud800"]',
                     '{"\\udcff": 1}', "[1e999]", "[]", "{}", "null", '"s"']),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False,
                                                          allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12)


def _same(a, b) -> bool:
    """Equality that also tells bool from int and 1.0 from 1."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


def _run_injected(src: str) -> dict:
    """Execute the injected cell with no builtins: only literal assignments can succeed."""
    tree = ast.parse(src)
    allowed = (ast.Module, ast.Assign, ast.Name, ast.Store, ast.Load, ast.Constant, ast.List,
               ast.Dict, ast.Tuple, ast.UnaryOp, ast.USub, ast.UAdd)
    assert all(isinstance(n, allowed) for n in ast.walk(tree)), src
    namespace: dict = {}
    exec(compile(tree, "<injected>", "exec"), {"__builtins__": {}}, namespace)
    return namespace


@FUZZ
@given(raw=st.one_of(texts, json_texts),
       type_name=st.sampled_from(SUPPORTED_TYPES + ("tuple", "")))
@example(raw="[" * 100_000, type_name="list")
@example(raw="[" + "9" * 5000 + "]", type_name="list")
@example(raw="9" * 5000, type_name="int")
@example(raw="\udcff", type_name="str")
@example(raw='["\\ud800"]', type_name="list")
@example(raw="[1e999]", type_name="list")
def test_convert_value_only_raises_parameter_error(raw, type_name):
    try:
        value = convert_value(raw, type_name, name="x")
    except ParameterError as err:
        assert err.code in ("PARAMETER_TYPE", "PARAMETER_ENCODING")
        return
    # the value goes into task files and manifest.json: it must be writable as UTF-8 JSON
    json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    expected = {"str": str, "int": int, "float": float, "bool": bool, "list": list,
                "dict": dict}[type_name]
    assert type(value) is expected
    if type_name == "str":
        assert value == raw
    if type_name == "float":
        assert math.isfinite(value)
    if type_name in ("str", "list", "dict"):
        assert _same(_run_injected(check_injection_is_literal({"x": value}))["x"], value)


@FUZZ
@given(value=json_values, type_name=st.sampled_from(["list", "dict"]))
def test_json_parameters_round_trip(value, type_name):
    raw = json.dumps([value] if type_name == "list" else {"k": value}, ensure_ascii=False)
    try:
        got = convert_value(raw, type_name, name="x")
    except ParameterError as err:
        assert err.code in ("PARAMETER_ENCODING", "PARAMETER_TYPE")
        return
    assert got == json.loads(raw)
    assert _same(_run_injected(check_injection_is_literal({"x": got}))["x"], got)


@FUZZ
@given(pairs=st.lists(st.one_of(texts, st.tuples(st.one_of(identifiers, texts), texts).map(
           lambda kv: f"{kv[0]}={kv[1]}")), max_size=5),
       declared=st.dictionaries(identifiers, st.lists(st.sampled_from(SUPPORTED_TYPES),
                                                      min_size=1, max_size=2), max_size=5))
def test_parse_cli_parameters_only_raises_parameter_error(pairs, declared):
    decl = {k: [Parameter(k, t, None, "", f"nb{i}") for i, t in enumerate(types)]
            for k, types in declared.items()}
    try:
        values = parse_cli_parameters(pairs, decl)
    except ParameterError as err:
        assert err.code.startswith("PARAMETER_")
        assert "\n" not in err.code
        return
    assert set(values) <= set(decl)
    json.dumps(values, ensure_ascii=False, allow_nan=False).encode("utf-8")
    for key, value in values.items():
        assert type(value).__name__ == decl[key][0].type


@FUZZ
@given(params=st.dictionaries(st.one_of(identifiers, texts), json_values, max_size=4))
def test_check_injection_only_raises_parameter_error(params):
    try:
        src = check_injection_is_literal(params)
    except ParameterError as err:
        assert err.code == "PARAMETER_NOT_LITERAL"
        return
    ns = _run_injected(src)
    assert ns.keys() == params.keys()
    assert all(_same(ns[k], params[k]) for k in params)


@FUZZ
@given(name=identifiers, value=texts)
def test_every_string_value_is_data(name, value):
    """Any text (what ``-p name=...`` can carry) is injected as exactly that string."""
    src = check_injection_is_literal({name: value})
    assert _run_injected(src) == {name: value}
    assert src.count("\n") == 2  # '# Parameters' and one assignment: no line was smuggled in


# -- a real run: hostile values are data ------------------------------------------------------

def test_hostile_values_on_the_command_line_execute_nothing(tiny_study, tmp_path):
    canary = tmp_path / "pwned"
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'study: str = ""\nrun_dir: str = "."\nseed: int = 1\nlang: str = ""\n'
        'label: str = ""\nnote: str = ""\nitems: list = []')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(
        "import json, pathlib\npathlib.Path('tables/params.json').write_text("
        "json.dumps({'label': label, 'note': note, 'items': items}))")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, str(folder / "10_echo.ipynb"))

    values = {
        "label": f'x"); import os; os.system("touch {canary}")',
        "note": f"'''\n__import__('pathlib').Path({str(canary)!r}).touch()\n'''",
        "items": [f"\"); __import__('os').system('touch {canary}') #", "\\", "{x}"],
    }
    argv = ["-p", f"label={values['label']}", "-p", f"note={values['note']}",
            "-p", f"items={json.dumps(values['items'])}"]
    r = subprocess.run([sys.executable, "-m", "workbench", "run", str(tiny_study),
                        "--no-progress", *argv],
                       env={**os.environ, "WORKBENCH_NOTEBOOK_DIR": str(folder)},
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    assert not canary.exists()
    out = Path(tiny_study) / "output"
    assert json.loads((out / "tables" / "params.json").read_text()) == values
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["notebook_parameters"] == values
