"""Reading contract files (YAML) and validating them against the JSON Schemas.

The schemas live in the repository's ``data-schema/`` folder (draft 2020-12).
Validation collects *every* problem of a file and turns each into a
:class:`~core.errors.ContractError` that names the file, the key path
(``outcomes[1].scale``), what was found and what was expected; an unknown key
gets the nearest allowed key as a suggestion (``design.covariate`` -> *did you
mean 'covariates'?*). Several problems are raised together as an
:class:`~core.errors.ErrorList`.

Codes are prefixed by the kind of file (``STUDY_`` or ``INSTRUMENT_``):

``*_NOT_FOUND``, ``*_FILE_NOT_TEXT`` (binary or not UTF-8), ``*_FILE_EMPTY``,
``*_FILE_TOO_LARGE``, ``*_YAML_SYNTAX`` (with line and column),
``*_DUPLICATE_KEY``, ``*_NOT_MAPPING``, ``*_UNKNOWN_KEY``, ``*_MISSING_KEY``,
``*_WRONG_TYPE``, ``*_INVALID_VALUE``, ``*_ONE_OF_KEYS``.

Only ``yaml.SafeLoader`` is used (a subclass that keeps mapping keys as text):
no YAML tag can build a Python object.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.resources
import json
import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import jsonschema
import yaml

from core.errors import ContractError, ErrorList
from core.suggest import did_you_mean

# package data (data-schema/ in the repository, survey/schemas/ in an installed wheel)
SCHEMA_DIR = Path(str(importlib.resources.files("survey.schemas")))

#: Largest contract file read (bytes). Study and instrument files are a few kB.
MAX_FILE_BYTES = 5_000_000
#: Largest number of YAML nodes after expanding aliases (guards against "billion laughs").
MAX_NODES = 200_000

# A locator turns a key path (tuple of keys / indices) into extra ContractError
# fields: {"row": int, "column": str, "where": str}. The YAML locator gives the
# line; the XLSForm one gives sheet, row and column.
Locator = Callable[[tuple], dict]

_IDENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")


# --------------------------------------------------------------------------- schemas


_SCHEMAS: dict[str, dict] = {}
"""Schemas checked against the draft 2020-12 metaschema, by the SHA-256 of the file's bytes."""
_VALIDATORS: dict[str, jsonschema.Draft202012Validator] = {}
_VALID: set[tuple[str, str]] = set()
"""``(schema digest, document digest)`` of the documents found valid in this process."""
_VALID_MAX = 4096


def _schema_file(name: str) -> tuple[str, dict]:
    """The SHA-256 of ``data-schema/<name>.schema.json`` and the schema, read from the file on
    every call and checked against the metaschema once per content: a schema file that
    changes is read and checked again."""
    path = SCHEMA_DIR / f"{name}.schema.json"
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    schema = _SCHEMAS.get(digest)
    if schema is None:
        schema = json.loads(raw.decode("utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
        _SCHEMAS[digest] = schema
    return digest, schema


def load_schema(name: str) -> dict:
    """The JSON Schema ``data-schema/<name>.schema.json`` (``study``, ``instrument``, ``item-text``).

    Checked against the draft 2020-12 metaschema once per content of the file (its SHA-256)
    in a process.

    Examples
    --------
    >>> load_schema("study")["properties"]["language"]["enum"]
    ['zh', 'en']
    """
    return _schema_file(name)[1]


def _validator(digest: str, schema: dict) -> jsonschema.Draft202012Validator:
    validator = _VALIDATORS.get(digest)
    if validator is None:
        validator = _VALIDATORS[digest] = jsonschema.Draft202012Validator(schema)
    return validator


def _plain(x, depth: int = 0) -> bool:
    """Whether ``x`` holds only JSON types (dicts with text keys, lists, scalars)."""
    if x is None or type(x) in (str, int, float, bool):
        return True
    if depth > 100:
        return False
    if type(x) is dict:
        return all(type(k) is str and _plain(v, depth + 1) for k, v in x.items())
    if type(x) is list:
        return all(_plain(v, depth + 1) for v in x)
    return False


def _document_digest(data) -> str | None:
    """SHA-256 of a parsed document in one canonical JSON spelling (None when it has none:
    a key that is not text, a value other than a mapping, list, text, number, bool or null,
    which the schema might judge otherwise than its JSON spelling)."""
    if not _plain(data):
        return None
    try:
        text = json.dumps(data, sort_keys=True, ensure_ascii=False, allow_nan=True,
                          separators=(",", ":"))
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# --------------------------------------------------------------------------- key paths


def format_path(path: Iterable) -> str:
    """``("outcomes", 1, "scale")`` -> ``"outcomes[1].scale"``.

    Examples
    --------
    >>> format_path(["outcomes", 1, "scale"])
    'outcomes[1].scale'
    >>> format_path(["instruments", 0, "items", "a b"])
    "instruments[0].items['a b']"
    """
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif _IDENT.match(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{str(part)!r}]"
    return out


def describe_value(value, limit: int = 60) -> str:
    """How a found value is shown in a message: its kind and (short) value."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value!r}"
    if isinstance(value, str):
        if value == "":
            return "empty text"
        shown = value if len(value) <= limit else value[: limit - 1] + "…"
        return f"text {shown!r}"
    if isinstance(value, list):
        return "an empty list" if not value else f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an empty mapping" if not value else "a mapping"
    return type(value).__name__


_TYPE_WORDS = {
    "string": "text",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping (key: value)",
    "null": "nothing",
}


def _describe_schema(schema: dict, root: dict) -> str:
    """A short human description of what a subschema accepts."""
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref.startswith("#/$defs/"):
            target = root["$defs"][ref.split("/")[-1]]
            if ref.endswith("/text"):
                return "{en: ..., zh: ...}"
            return _describe_schema(target, root)
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    if "oneOf" in schema or "anyOf" in schema:
        return " or ".join(_describe_schema(s, root) for s in schema.get("oneOf", schema.get("anyOf")))
    t = schema.get("type")
    if isinstance(t, list):
        words = [_TYPE_WORDS.get(x, x) for x in t]
        if set(t) == {"string", "integer"}:
            return "text or an integer"
        if set(t) == {"string", "number"}:
            return "text or a number"
        return " or ".join(words)
    if t == "array" and "items" in schema:
        inner = _describe_schema(schema["items"], root)
        return f"a list of {inner}" if inner else "a list"
    if t:
        return _TYPE_WORDS.get(t, t)
    return ""


# --------------------------------------------------------------------------- reading YAML


def _kind_label(prefix: str) -> str:
    return {"STUDY": "study file", "INSTRUMENT": "instrument file"}.get(prefix, "file")


def read_text(path: Path, *, prefix: str, display: str | None = None) -> str:
    """Read a contract file as UTF-8 text (a BOM is allowed), with clear errors.

    Raises ``{prefix}_NOT_FOUND``, ``{prefix}_FILE_TOO_LARGE``, ``{prefix}_FILE_EMPTY``
    or ``{prefix}_FILE_NOT_TEXT`` (binary, or not UTF-8: the byte offset is given).
    """
    path = Path(path)
    display = display or str(path)
    kind = _kind_label(prefix)
    if not path.exists():
        raise ContractError(f"{prefix}_NOT_FOUND", f"{kind} not found", file=display)
    if not path.is_file():
        raise ContractError(f"{prefix}_NOT_FOUND", f"is not a file (a {kind} was expected)", file=display)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ContractError(f"{prefix}_FILE_TOO_LARGE",
                                f"found {size:,} bytes; expected a {kind} under {MAX_FILE_BYTES:,} bytes",
                                file=display)
        raw = path.read_bytes()
    except OSError as err:
        raise ContractError(f"{prefix}_NOT_FOUND", f"cannot be read ({err.strerror or err})",
                            file=display) from None
    return decode_text(raw, prefix=prefix, display=display)


def decode_text(raw: bytes, *, prefix: str, display: str) -> str:
    """Decode the bytes of a contract file: UTF-8 (optional BOM) only."""
    kind = _kind_label(prefix)
    if not raw.strip():
        raise ContractError(f"{prefix}_FILE_EMPTY", f"the {kind} is empty; expected YAML text",
                            file=display)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ContractError(f"{prefix}_FILE_NOT_TEXT",
                            f"found UTF-16 text; expected UTF-8: save the {kind} as UTF-8", file=display)
    if b"\x00" in raw[:8192] or raw.startswith(b"PK\x03\x04"):
        raise ContractError(f"{prefix}_FILE_NOT_TEXT",
                            f"found binary data; expected a {kind} in YAML text", file=display)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        hint = ""
        try:
            raw.decode("gb18030")
            hint = " (it looks like GBK/GB18030: save it as UTF-8)"
        except UnicodeDecodeError:
            pass
        line = raw.count(b"\n", 0, err.start) + 1
        raise ContractError(f"{prefix}_FILE_NOT_TEXT",
                            f"found bytes that are not UTF-8 at byte {err.start} (line {line}); "
                            f"expected UTF-8 text{hint}",
                            file=display) from None


class YamlLines:
    """Line numbers of the keys of a YAML document, looked up by key path."""

    def __init__(self, node):
        self.node = node

    def line(self, path: Iterable) -> int | None:
        """1-based line of the deepest node of ``path`` that exists."""
        node = self.node
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in path:
            nxt = None
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and _scalar_key(k) == str(part):
                        nxt = v
                        line = k.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if 0 <= part < len(node.value):
                    nxt = node.value[part]
                    line = nxt.start_mark.line + 1
            if nxt is None:
                break
            node = nxt
        return line

    def locate(self, path: tuple) -> dict:
        line = self.line(path)
        return {"where": f"line {line}", "line": line} if line else {}


def _scalar_key(node) -> str:
    """The key as the loader will have normalized it (``yes`` -> ``true``, ``1`` -> ``1``)."""
    try:
        value = yaml.SafeLoader.construct_scalar(_KEY_LOADER, node)
        tag = node.tag
        if tag == "tag:yaml.org,2002:bool":
            return "true" if value.lower() in ("yes", "true", "on", "y") else "false"
        if tag == "tag:yaml.org,2002:int":
            return str(_KEY_LOADER.construct_yaml_int(node))
        return str(value)
    except Exception:  # noqa: BLE001 - a key we cannot render just is not located
        return str(node.value)


_KEY_LOADER = yaml.SafeLoader("")


def read_yaml(path: Path, *, prefix: str, display: str | None = None) -> tuple[object, YamlLines]:
    """Read a YAML contract file safely: returns ``(data, lines)``.

    ``data`` is normalized for JSON Schema validation (keys as text, dates as ISO text,
    NaN/inf as text so that they fail number checks). Raises a ContractError for a
    missing, empty, binary, non-UTF-8 or oversized file, a YAML syntax error (with
    line and column), a duplicated key, or a document that is not a mapping.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.yaml"
    >>> _ = p.write_text("id: rses\\nitems: [{id: a}]\\n", encoding="utf-8")
    >>> read_yaml(p, prefix="INSTRUMENT")[0]
    {'id': 'rses', 'items': [{'id': 'a'}]}
    """
    display = display or str(path)
    text = read_text(Path(path), prefix=prefix, display=display)
    return parse_yaml(text, prefix=prefix, display=display)


def parse_yaml(text: str, *, prefix: str, display: str) -> tuple[object, YamlLines]:
    """Parse YAML text (see :func:`read_yaml`)."""
    kind = _kind_label(prefix)
    try:
        loader = _SafeTextKeyLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = " ".join(p for p in (err.context, err.problem) if p)
        raise ContractError(f"{prefix}_YAML_SYNTAX", f"YAML syntax error{where}: {problem}",
                            file=display) from None
    except yaml.YAMLError as err:
        raise ContractError(f"{prefix}_YAML_SYNTAX", f"YAML syntax error: {err}", file=display) from None
    except RecursionError:
        raise ContractError(f"{prefix}_FILE_TOO_LARGE", "the YAML is nested too deeply",
                            file=display) from None
    if data is None:
        raise ContractError(f"{prefix}_FILE_EMPTY", f"the {kind} holds no data; expected a mapping of keys",
                            file=display)
    if not isinstance(data, dict):
        raise ContractError(f"{prefix}_NOT_MAPPING",
                            f"found {describe_value(data)} at the top of the file; expected a mapping "
                            f"of keys (e.g. 'id: ...')", file=display)
    dups = list(_duplicate_keys(node))
    if dups:
        errs = [ContractError(f"{prefix}_DUPLICATE_KEY",
                              f"key {key!r} appears twice (lines {first} and {second}); keep one",
                              file=display, column=format_path(p) or key)
                for p, key, first, second in dups]
        raise errs[0] if len(errs) == 1 else ErrorList(errs)
    try:
        _count_nodes(data)
        data = _normalize(data)
    except RecursionError:
        raise ContractError(f"{prefix}_FILE_TOO_LARGE", "the YAML is nested too deeply",
                            file=display) from None
    except _TooLarge as err:
        raise ContractError(f"{prefix}_FILE_TOO_LARGE", str(err), file=display) from None
    return data, YamlLines(node)


class _TooLarge(Exception):
    pass


class _SafeTextKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """``yaml.SafeLoader`` (libyaml when available) whose mapping keys are text as written (``1`` -> ``"1"``, ``yes`` -> ``"true"``).

    With plain ``safe_load`` the keys ``1`` and ``yes`` (True) collide in a Python dict and
    one silently disappears; here they stay distinct, and the schema sees text keys.
    Nothing else differs from ``yaml.safe_load``.
    """

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(None, None, f"expected a mapping node, but found {node.id}",
                                                    node.start_mark)
        self.flatten_mapping(node)
        mapping = {}
        for key_node, value_node in node.value:
            key = _norm_key(self.construct_object(key_node, deep=deep))
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


def _duplicate_keys(node, path=(), seen_nodes=None):
    seen_nodes = set() if seen_nodes is None else seen_nodes
    if id(node) in seen_nodes:
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        lines = {}
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                key = _scalar_key(k)
                if key in lines:
                    yield path + (key,), key, lines[key], k.start_mark.line + 1
                else:
                    lines[key] = k.start_mark.line + 1
                yield from _duplicate_keys(v, path + (key,), seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            yield from _duplicate_keys(v, path + (i,), seen_nodes)


def _count_nodes(data) -> None:
    """Refuse documents whose alias expansion is huge, or that refer to themselves."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(x) -> int:
        if not isinstance(x, (dict, list)):
            return 1
        key = id(x)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _TooLarge("the YAML refers to itself (a recursive alias)")
        active.add(key)
        children = list(x.keys()) + list(x.values()) if isinstance(x, dict) else x
        total = 1 + sum(size(c) for c in children)
        active.discard(key)
        if total > MAX_NODES:
            raise _TooLarge(f"found more than {MAX_NODES:,} values (after expanding aliases); "
                            "expected a small contract file")
        sizes[key] = total
        return total

    size(data)


def _normalize(x):
    """YAML values -> JSON-like values, so that the schema sees what the user meant."""
    if isinstance(x, dict):
        return {_norm_key(k): _normalize(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_normalize(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)  # 'nan'/'inf' then fail a number check instead of slipping through
    if isinstance(x, (_dt.date, _dt.datetime)):
        return x.isoformat()
    if isinstance(x, (set, frozenset, tuple)):
        return [_normalize(v) for v in x]
    if isinstance(x, bytes):
        return "<binary>"
    return x


def _norm_key(k) -> str:
    if isinstance(k, bool):
        return "true" if k else "false"
    if k is None:
        return "null"
    if isinstance(k, (_dt.date, _dt.datetime)):
        return k.isoformat()
    if isinstance(k, float) and k.is_integer():
        return str(int(k))
    if isinstance(k, (tuple, list, dict)):
        return str(k)
    return str(k)


# --------------------------------------------------------------------------- validation


def contract_error(code: str, message: str, *, file: str, path: tuple = (),
                   locate: Locator | None = None) -> ContractError:
    """A ContractError at key ``path``; ``locate`` adds the line (YAML) or sheet/row/column (XLSForm)."""
    extra = locate(tuple(path)) if locate else {}
    column = extra.get("column", format_path(path) or None)
    where = extra.get("where")
    msg = f"{message} ({where})" if where and "row" not in extra else message
    if where and "row" in extra:
        msg = f"{where}: {message}"
    err = ContractError(code, msg, file=file, row=extra.get("row"), column=column)
    err.line = extra.get("line", extra.get("row"))
    return err


def raise_errors(errors: list) -> None:
    """Raise nothing, the one error, or an ErrorList of all (flattening nested lists)."""
    flat = []
    for e in errors:
        flat.extend(e.errors if isinstance(e, ErrorList) else [e])
    if len(flat) == 1:
        raise flat[0]
    if flat:
        raise ErrorList(flat)


def check(data, schema_name: str, *, file: str, prefix: str,
          locate: Locator | None = None) -> list[ContractError]:
    """All schema violations of ``data`` as ContractErrors (empty list: valid).

    Examples
    --------
    >>> errs = check({"id": "s", "design": {"type": "pre_post", "id": "sid", "covariate": ["age"]},
    ...               "data": [{"path": "d.csv"}]}, "study", file="study.yaml", prefix="STUDY")
    >>> print(errs[0])
    [STUDY_UNKNOWN_KEY] study.yaml, design.covariate: unknown key 'covariate'; did you mean 'covariates'? (allowed here: type, id, wave, waves, arm, arms, control, clusters, blocks, covariates, subgroups)
    """
    digest, schema = _schema_file(schema_name)
    key = _document_digest(data)
    if key is not None and (digest, key) in _VALID:  # this content passed this schema before
        return []
    errors: list[ContractError] = []
    for err in _validator(digest, schema).iter_errors(data):
        errors.extend(_translate(err, schema, file=file, prefix=prefix, locate=locate))
    if not errors and key is not None:
        if len(_VALID) >= _VALID_MAX:
            _VALID.clear()
        _VALID.add((digest, key))
    # document order: by line (or spreadsheet row), then key path
    errors.sort(key=lambda e: (getattr(e, "line", None) or 0, _order_key(e.column or "")))
    return _dedupe(errors)


def validate(data, schema_name: str, *, file: str, prefix: str, locate: Locator | None = None) -> None:
    """Raise the schema violations of ``data`` (one ContractError, or an ErrorList)."""
    raise_errors(check(data, schema_name, file=file, prefix=prefix, locate=locate))


def _order_key(col: str):
    # ASCII digits only: \d and str.isdigit also match '¹' or '٣', which int() refuses
    parts = re.split(r"([0-9]+)", col)
    return [(0, int(p), "") if p.isascii() and p.isdigit() else (1, 0, p) for p in parts]


def _dedupe(errors):
    seen, out = set(), []
    for e in errors:
        k = str(e)
        if k not in seen:
            seen.add(k)
            out.append(e)
    return out


def _translate(err, root: dict, *, file, prefix, locate) -> list[ContractError]:
    path = tuple(err.absolute_path)
    schema = err.schema if isinstance(err.schema, dict) else {}
    v = err.validator
    inst = err.instance

    def mk(code, msg, p=path):
        return contract_error(f"{prefix}_{code}", msg, file=file, path=p, locate=locate)

    if "propertyNames" in err.relative_schema_path:
        parent = err.parent
        desc = ""
        if parent is not None and isinstance(parent.schema, dict):
            desc = parent.schema.get("description", "")
        expected = "a whole number" if v == "pattern" and "-?[0-9]" in str(err.validator_value) else (
            "an id of ASCII letters, digits and _ starting with a letter" if v == "pattern" else "a valid key")
        return [mk("INVALID_VALUE", f"found key {inst!r}; expected {expected}"
                   + (f" ({desc})" if desc else ""), path + (inst,))]

    if v == "additionalProperties" and err.validator_value is False and isinstance(inst, dict):
        allowed = list(schema.get("properties", {}))
        out = []
        for key in inst:
            if key in allowed:
                continue
            if any(re.search(p, key) for p in schema.get("patternProperties", {})):
                continue
            hint = did_you_mean(key, allowed)
            where = f" in {format_path(path)}" if path else ""
            out.append(mk("UNKNOWN_KEY",
                          f"unknown key {key!r}{where if not hint else ''}{hint} "
                          f"(allowed here: {', '.join(allowed)})", path + (key,)))
        return out

    if v == "required":
        missing = [k for k in err.validator_value if isinstance(inst, dict) and k not in inst]
        out = []
        for key in missing:
            sub = schema.get("properties", {}).get(key, {})
            desc = _describe_schema(sub, root)
            out.append(mk("MISSING_KEY", f"missing required key {key!r}"
                          + (f" ({desc})" if desc else ""), path + (key,)))
        return out

    if v in ("oneOf", "anyOf"):
        branches = err.validator_value
        req_sets = [b.get("required") for b in branches if isinstance(b, dict)]
        if all(r and len(r) == 1 and set(b) <= {"required", "not"} for r, b in zip(req_sets, branches)):
            keys = [r[0] for r in req_sets]
            present = [k for k in keys if isinstance(inst, dict) and k in inst]
            alts = " or ".join(repr(k) for k in keys)
            if present:
                msg = f"found both {' and '.join(repr(k) for k in present)}; expected exactly one of {alts}"
            else:
                msg = f"found none of {alts}; expected exactly one of them"
            return [mk("ONE_OF_KEYS", msg)]
        # a value that may take several shapes: report the deepest sub-error if the value
        # had the right shape for a branch, otherwise what the shapes are.
        deep = [c for c in err.context if len(c.absolute_path) > len(err.absolute_path)
                or c.validator not in ("type", "oneOf", "anyOf", "$ref")]
        if deep:
            best = jsonschema.exceptions.best_match(deep)
            return _translate(best, root, file=file, prefix=prefix, locate=locate)
        expected = " or ".join(_describe_schema(b, root) for b in branches)
        return [mk("WRONG_TYPE", f"found {describe_value(inst)}; expected {expected}")]

    if v == "type":
        expected = _describe_schema(schema, root) or str(err.validator_value)
        if "description" in schema and schema.get("type") != "object":
            pass
        hint = ""
        if isinstance(inst, bool) and "true or false" not in expected:
            hint = " (YAML reads yes/no/on/off/true/false as true or false: put the value in quotes)"
        return [mk("WRONG_TYPE", f"found {describe_value(inst)}; expected {expected}{hint}")]

    if v == "enum":
        options = [str(o) for o in err.validator_value]
        hint = did_you_mean(str(inst), options) if isinstance(inst, str) else ""
        return [mk("INVALID_VALUE", f"found {describe_value(inst)}; expected one of {', '.join(options)}{hint}")]

    if v == "pattern":
        desc = schema.get("description") or f"text matching {err.validator_value}"
        return [mk("INVALID_VALUE", f"found {describe_value(inst)}; expected {_first_sentence(desc)}")]

    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        lo = schema.get("minimum")
        lo_x = schema.get("exclusiveMinimum")
        hi = schema.get("maximum")
        hi_x = schema.get("exclusiveMaximum")
        parts = []
        if lo is not None:
            parts.append(f">= {lo}")
        if lo_x is not None:
            parts.append(f"> {lo_x}")
        if hi is not None:
            parts.append(f"<= {hi}")
        if hi_x is not None:
            parts.append(f"< {hi_x}")
        kind = "an integer" if schema.get("type") == "integer" else "a number"
        return [mk("INVALID_VALUE", f"found {describe_value(inst)}; expected {kind} {' and '.join(parts)}")]

    if v == "minItems":
        n = err.validator_value
        return [mk("INVALID_VALUE", f"found {describe_value(inst)}; expected at least {n} "
                   f"entr{'y' if n == 1 else 'ies'}")]

    if v == "minLength":
        return [mk("INVALID_VALUE", f"found {describe_value(inst)}; expected non-empty text")]

    if v == "minProperties":
        allowed = list(schema.get("properties", {}))
        exp = f"at least one of {', '.join(allowed)}" if allowed else "at least one entry"
        return [mk("INVALID_VALUE", f"found {describe_value(inst)}; expected {exp}")]

    if v == "uniqueItems":
        seen, dups = set(), []
        for x in inst if isinstance(inst, list) else []:
            k = json.dumps(x, sort_keys=True, default=str)
            if k in seen:
                dups.append(x)
            seen.add(k)
        shown = ", ".join(repr(d) for d in dups[:5])
        return [mk("INVALID_VALUE", f"found duplicates ({shown}); expected each entry once")]

    return [mk("INVALID_VALUE", f"found {describe_value(inst)}; {err.message}")]


def _first_sentence(text: str) -> str:
    s = re.split(r"(?<!e\.g)(?<!i\.e)\. ", text)[0].rstrip(".")
    if len(s) > 1 and s[0].isupper() and s[1].islower():
        s = s[0].lower() + s[1:]
    return s
