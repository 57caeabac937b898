"""Notebook parameters as a typed contract.

papermill converts ``-p`` values by guessing (``007`` becomes ``7``, ``true``
stays a string) and only warns about unknown names. Here each notebook declares
its parameters with type annotations in its ``parameters`` cell::

    study: str = ""          # path to the study folder
    alpha: float = 0.05      # significance level
    n_boot: int = 1000       # bootstrap replicates

and ``-p KEY=VALUE`` values are converted to the declared type or refused:
an unknown name or a value of the wrong type is a :class:`ParameterError`.
Strings are kept verbatim (``007`` stays ``"007"``). Values are always passed to
the notebook as Python literals, never as code: :func:`check_injection_is_literal`
re-parses the cell papermill will inject and refuses anything but
``name = <literal>`` lines.
"""

from __future__ import annotations

import ast
import json
import keyword
import math
from dataclasses import dataclass
from pathlib import Path

from core.errors import WorkbenchError

SUPPORTED_TYPES = ("str", "int", "float", "bool", "list", "dict")
MAX_NESTING = 32  # list/dict values nested deeper than this are refused
MAX_TEXT = 4096  # characters of a str parameter (paths, labels); longer values are refused
MAX_SEED = 2**32 - 1  # numpy's legacy seeding range, the one R users know as well
LANGUAGES = ("zh", "en")

# Plausible values of the parameters the notebooks share, checked before anything runs:
# name -> (test, what is expected). A parameter not listed here is checked by type only.
VALUE_RULES: dict = {
    "lang": (lambda v: v in ("",) + LANGUAGES, "zh or en (or empty for the study's language)"),
    "seed": (lambda v: 0 <= v <= MAX_SEED, f"an integer from 0 to {MAX_SEED}"),
    "n_sims": (lambda v: 1 <= v <= 1_000_000, "an integer from 1 to 1000000"),
    "power_target": (lambda v: 0 < v < 1, "a number strictly between 0 and 1, e.g. 0.8"),
    "alpha": (lambda v: 0 < v < 1, "a number strictly between 0 and 1, e.g. 0.05"),
    "reliability": (lambda v: 0 < v < 1, "a number strictly between 0 and 1"),
    "n": (lambda v: 2 <= v <= 1_000_000, "an integer from 2 to 1000000"),
    "n_per_arm": (lambda v: 2 <= v <= 1_000_000, "an integer from 2 to 1000000"),
    "n_studies": (lambda v: 1 <= v <= 100_000, "an integer from 1 to 100000"),
    "true_effect": (lambda v: -5 <= v <= 5, "an effect in SD units from -5 to 5"),
    "select_below_percentile": (lambda v: 0 < v <= 100, "a percentile above 0 and at most 100"),
}


def check_value(name: str, value) -> None:
    """Refuse a parameter value outside its plausible range (:data:`VALUE_RULES`).

    Examples
    --------
    >>> check_value("power_target", 0.9)
    >>> try:
    ...     check_value("lang", "fr")
    ... except ParameterError as err:
    ...     print(err.code)
    PARAMETER_VALUE
    """
    rule = VALUE_RULES.get(name)
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise ParameterError("PARAMETER_VALUE",
                             f"-p {name}: the value has {len(value)} characters; "
                             f"at most {MAX_TEXT} are accepted", column=name)
    if rule is None:
        return
    test, expected = rule
    try:
        ok = bool(test(value))
    except TypeError:
        ok = False
    if not ok:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise ParameterError("PARAMETER_VALUE", f"-p {name}={shown}: expected {expected}",
                             column=name)
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


class ParameterError(WorkbenchError):
    """A ``-p`` parameter that does not fit the notebooks' declared parameters."""


@dataclass(frozen=True)
class Parameter:
    """One declared notebook parameter."""

    name: str
    type: str
    default: object
    help: str
    notebook: str


def _parameters_source(notebook: Path) -> str | None:
    """The source of the notebook's first cell tagged ``parameters`` (None: no such cell).

    A version-4 notebook is read as the JSON it is: ``workbench run`` reads every notebook's
    parameters before it starts the notebooks' lanes, and nbformat's import and schema
    validation cost it about 0.1-0.3 s there (papermill reads and validates each notebook
    when it runs it). Anything else (older versions, a file that is not JSON) is read by
    nbformat, which converts it or says what is wrong."""
    try:
        data = json.loads(Path(notebook).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if isinstance(data, dict) and data.get("nbformat") == 4 and isinstance(data.get("cells"),
                                                                            list):
        cells = [c for c in data["cells"] if isinstance(c, dict)]
    else:
        import nbformat

        cells = nbformat.read(str(notebook), as_version=4).cells
    for cell in cells:
        meta = cell.get("metadata")
        if isinstance(meta, dict) and "parameters" in (meta.get("tags") or []):
            source = cell.get("source", "")
            return "".join(source) if isinstance(source, list) else str(source)
    return None


def declared_parameters(notebook: Path) -> dict[str, Parameter]:
    """Read the typed parameters of a notebook's ``parameters`` cell.

    Parameters
    ----------
    notebook : Path
        An ``.ipynb`` file with a cell tagged ``parameters``.

    Returns
    -------
    dict
        ``name -> Parameter``. A parameter without a supported annotation is an
        error: the contract needs a type for every parameter.

    Examples
    --------
    >>> from pathlib import Path
    >>> ps = declared_parameters(Path("notebooks/03_effects.ipynb"))  # doctest: +SKIP
    >>> ps["alpha"].type                                              # doctest: +SKIP
    'float'
    """
    source = _parameters_source(notebook)
    if source is None:
        raise ParameterError("NOTEBOOK_NO_PARAMETERS", "no cell tagged 'parameters'",
                             file=str(notebook))
    out: dict[str, Parameter] = {}
    tree = ast.parse(source)
    lines = source.splitlines()
    for node in tree.body:
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
            if isinstance(node, ast.Assign):
                names = ", ".join(t.id for t in node.targets if isinstance(t, ast.Name))
                raise ParameterError("NOTEBOOK_UNTYPED_PARAMETER",
                                     f"parameter {names} has no type annotation "
                                     f"(write e.g. '{names}: str = ...')", file=str(notebook))
            continue
        ann = ast.unparse(node.annotation).strip("'\"")
        base = ann.split("[")[0]
        if base not in SUPPORTED_TYPES:
            raise ParameterError("NOTEBOOK_PARAMETER_TYPE",
                                 f"parameter {node.target.id!r} has type {ann!r}; "
                                 f"supported: {', '.join(SUPPORTED_TYPES)}", file=str(notebook))
        default = ast.literal_eval(node.value) if node.value is not None else None
        line = lines[node.lineno - 1]
        help_text = line.split("#", 1)[1].strip() if "#" in line else ""
        out[node.target.id] = Parameter(node.target.id, base, default, help_text, notebook.stem)
    return out


def convert_value(raw: str, type_name: str, *, name: str):
    """Convert a command-line string to a declared type, strictly.

    Examples
    --------
    >>> convert_value("007", "str", name="school_id")
    '007'
    >>> convert_value("0.1", "float", name="alpha")
    0.1
    >>> convert_value("yes", "bool", name="flag")
    True

    Notes
    -----
    Integers follow Python's ``int``: ``1_000`` and full-width digits (``１２``, as a
    Chinese input method types them) are accepted. ``list``/``dict`` values are JSON
    without ``NaN``/``Infinity`` (nor ``1e999``), nested at most ``MAX_NESTING`` deep.
    Text that is not valid Unicode (bytes of another encoding on the command line) is
    refused.
    """
    def bad(expected):
        shown = raw if len(raw) <= 80 else raw[:77] + "..."
        return ParameterError("PARAMETER_TYPE",
                              f"-p {name}={shown!r}: expected {expected} (declared {type_name})",
                              column=name)

    _check_text(raw, name)
    if type_name == "str":
        return raw
    if type_name == "int":
        try:
            return int(raw.strip(), 10)
        except ValueError:
            raise bad("an integer such as 1000") from None
    if type_name == "float":
        try:
            value = float(raw.strip())
        except ValueError:
            raise bad("a number such as 0.05") from None
        if not math.isfinite(value):
            raise bad("a finite number")
        return value
    if type_name == "bool":
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise bad("true or false")
    if type_name in ("list", "dict"):
        example = '[1, 2]' if type_name == "list" else '{"a": 1}'
        try:
            value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
        except (ValueError, RecursionError):  # JSONDecodeError, NaN, >4300-digit integers
            raise bad(f"a JSON {type_name}, e.g. {example}") from None
        if not isinstance(value, list if type_name == "list" else dict):
            raise bad(f"a JSON {type_name}")
        if _depth(value) > MAX_NESTING:
            raise bad(f"a JSON {type_name} nested at most {MAX_NESTING} deep")
        for text in _strings(value):
            _check_text(text, name)
        return value
    raise bad(type_name)


def _refuse_constant(token: str):
    raise ValueError(f"{token} is not allowed")


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):  # 1e999
        raise ValueError(f"{token} is not a finite number")
    return value


def _depth(value, level: int = 0) -> int:
    if level > MAX_NESTING:
        return level
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    return level


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)


def _check_text(text: str, name: str) -> None:
    """Refuse text that cannot be written as UTF-8 (lone surrogates from undecodable bytes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ParameterError("PARAMETER_ENCODING",
                             f"-p {name}: the value is not valid text (bytes in another "
                             "encoding than UTF-8?)", column=name) from None


def parse_cli_parameters(pairs: list[str], declared: dict[str, list[Parameter]]) -> dict:
    """Turn ``["alpha=0.1", "school=007"]`` into typed values.

    Parameters
    ----------
    pairs : list of str
        ``KEY=VALUE`` strings from ``-p``.
    declared : dict
        ``name -> [Parameter, ...]`` over the notebooks of the run (a name may be
        declared by several notebooks; their types must agree).

    Returns
    -------
    dict
        ``name -> value`` with values of the declared types.

    Examples
    --------
    >>> p = Parameter("alpha", "float", 0.05, "", "03_effects")
    >>> parse_cli_parameters(["alpha=0.1"], {"alpha": [p]})
    {'alpha': 0.1}
    """
    from core.suggest import did_you_mean

    values: dict = {}
    for pair in pairs:
        if "=" not in pair:
            raise ParameterError("PARAMETER_SYNTAX", f"-p {pair!r}: expected KEY=VALUE")
        key, raw = pair.split("=", 1)
        key = key.strip()
        _check_text(key, "KEY")
        if key not in declared:
            hint = did_you_mean(key, declared)
            known = ", ".join(sorted(declared)) or "none"
            raise ParameterError("PARAMETER_UNKNOWN",
                                 f"-p {key}: no notebook of this run declares it{hint} "
                                 f"(declared: {known})", column=key)
        types = {p.type for p in declared[key]}
        if len(types) > 1:
            raise ParameterError("PARAMETER_CONFLICT",
                                 f"-p {key}: notebooks declare different types {sorted(types)}",
                                 column=key)
        values[key] = convert_value(raw, types.pop(), name=key)
        check_value(key, values[key])
    return values


def check_injection_is_literal(parameters: dict) -> str:
    """Render parameters as papermill will inject them and prove they are data only.

    Returns the injected source. Raises :class:`ParameterError` if the rendered
    cell contains anything other than ``name = <literal>`` assignments whose
    values equal the given ones (so a value such as ``x"); import os; ...`` can
    never run as code).

    Examples
    --------
    >>> src = check_injection_is_literal({"name": 'x"); import os; os.system("id")'})
    >>> src.count("\\n") <= 2
    True
    """
    from papermill.translators import translate_parameters

    for name in parameters:
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ParameterError("PARAMETER_NOT_LITERAL",
                                 f"parameter name {name!r} is not a Python identifier")
    try:
        src = translate_parameters("python3", "python", parameters, "Parameters")
        tree = ast.parse(src)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ParameterError("PARAMETER_NOT_LITERAL",
                             "parameters cannot be rendered as Python literals") from None
    seen = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            raise ParameterError("PARAMETER_NOT_LITERAL", "a parameter rendered as code")
        try:
            seen[node.targets[0].id] = ast.literal_eval(node.value)
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            if ast.unparse(node.value) in ("float('nan')", "float('inf')", "float('-inf')"):
                seen[node.targets[0].id] = parameters.get(node.targets[0].id)
                continue
            raise ParameterError("PARAMETER_NOT_LITERAL",
                                 f"parameter {node.targets[0].id!r} is not a literal") from None
    if seen.keys() != parameters.keys() or any(seen[k] != parameters[k] for k in parameters):
        raise ParameterError("PARAMETER_NOT_LITERAL", "parameters did not round-trip as literals")
    return src
