"""The layers of docs/architecture.md, read from an explicit table, and no import cycles.

Every import of our packages is checked with :mod:`ast`, wherever it stands: at the top of
a module, inside a function (the late imports that hide a dependency), under
``if TYPE_CHECKING``, and the dynamic forms whose target is written in the source
(``importlib.import_module("survey.readers")``, an f-string's literal prefix such as
``f"workbench.commands.{name}"``, a module-level table of module names used as
``import_module(TABLE[name])``, ``__import__("x")`` and ``importlib.resources.files("x")``,
which imports ``x``). Notebooks (``notebooks/*.ipynb`` and ``notebooks/training/*.ipynb``)
are checked cell by cell.

The checker is tested on a planted tree (a bad import of each kind, a cycle), so that a
checker that finds nothing cannot pass for a clean code base.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: package -> the packages of ours it may import (itself always). Lower layers first.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "survey": {"core"},
    "analysis": {"core"},
    "evaluation": {"core", "survey", "analysis"},
    "workbench": {"core", "survey", "analysis", "evaluation"},
}
#: what the study and training notebooks may import of ours: never the CLI layer
NOTEBOOK_ALLOWED = {"core", "survey", "analysis", "evaluation"}
NOTEBOOK_GLOBS = ("notebooks/*.ipynb", "notebooks/training/*.ipynb")
#: folders at the top of the repository that are not code layers (package data, tests, tools)
NOT_LAYERS = {"notebooks", "data-schema", "tests", "bench", "examples", "docs", "build"}


@dataclass(frozen=True)
class Import:
    """One import in a file: where it stands and the module of ours it names."""

    file: str   # path relative to the root of the checked tree (a notebook: path + cell)
    line: int
    target: str  # absolute dotted name: a module of ours, or the package it is in

    @property
    def package(self) -> str:
        return self.target.split(".")[0]

    def __str__(self) -> str:
        return f"{self.file}:{self.line} imports {self.target}"


# --- finding the imports ----------------------------------------------------------------------

def module_name(root: Path, path: Path) -> str:
    """``survey/ingest.py`` -> ``survey.ingest``; ``survey/__init__.py`` -> ``survey``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _string(node: ast.AST) -> str | None:
    """A string literal, or the literal prefix of an f-string up to its last dot."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        head = node.values[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str) and "." in head.value:
            return head.value.rsplit(".", 1)[0]
    return None


def _callee(func: ast.AST) -> str:
    """``importlib.import_module`` -> ``"importlib.import_module"``; a bare name -> its name."""
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


_DYNAMIC = {"import_module", "importlib.import_module", "__import__",
            "files", "resources.files", "importlib.resources.files"}


def raw_imports(tree: ast.AST, module: str | None, is_package: bool) -> list[tuple[int, str, tuple]]:
    """``(line, dotted name, names)`` of every import in ``tree``, relative ones made absolute.

    ``names`` are the names of a ``from X import a, b`` (one of them may be a submodule).
    ``module`` is the dotted name of the file (None for a notebook cell).
    """
    tables: dict[str, list[str]] = {}  # module-level dicts of strings: NAME -> values
    for node in getattr(tree, "body", []):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Dict)):
            values = [v.value for v in node.value.values
                      if isinstance(v, ast.Constant) and isinstance(v.value, str)]
            if values and len(values) == len(node.value.values):
                tables[node.targets[0].id] = values

    package = (module if is_package else module.rpartition(".")[0]) if module else ""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, ()) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                keep = len(parts) - (node.level - 1)
                if keep < 1:
                    found.append((node.lineno, "<relative import above the top package>", ()))
                    continue
                base = ".".join(parts[:keep] + ([base] if base else []))
            found.append((node.lineno, base, tuple(a.name for a in node.names)))
        elif isinstance(node, ast.Call) and node.args and _callee(node.func) in _DYNAMIC:
            arg = node.args[0]
            if isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name):
                found += [(node.lineno, v, ()) for v in tables.get(arg.value.id, [])]
            elif (name := _string(arg)) is not None:
                if name.startswith(".") and package:  # import_module(".x", package=...)
                    name = package + name
                found.append((node.lineno, name, ()))
    return found


def notebook_cells(path: Path):
    """``(cell number, source)`` of each code cell, IPython magics and shell lines blanked."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        lines = ["" if line.lstrip().startswith(("%", "!")) else line
                 for line in src.splitlines()]
        yield i, "\n".join(lines)


class Tree:
    """The packages of ``ALLOWED`` and the notebooks below ``root``, and their imports."""

    def __init__(self, root: Path, packages=tuple(ALLOWED), notebook_globs=NOTEBOOK_GLOBS):
        self.root = root
        self.files = {module_name(root, p): p for pkg in packages if (root / pkg).is_dir()
                      for p in sorted((root / pkg).rglob("*.py"))}
        self.modules = set(self.files)
        self.notebooks = [p for g in notebook_globs for p in sorted(root.glob(g))]

    def resolve(self, name: str, names: tuple = ()) -> list[str]:
        """The modules of ours that an import names: ``from survey import xlsform`` is the
        module ``survey.xlsform``; ``from survey.xlsform import f`` is ``survey.xlsform``;
        a name that is not a module file stands for the closest package above it."""
        if name.split(".")[0] not in ALLOWED:
            return []
        subs = [f"{name}.{n}" for n in names if f"{name}.{n}" in self.modules]
        if subs and len(subs) == len(names):
            return subs
        parts = name.split(".")
        while len(parts) > 1 and ".".join(parts) not in self.modules:
            parts.pop()
        return sorted({".".join(parts), *subs})

    def _imports(self, tree: ast.AST, file: str, module: str | None, is_package: bool):
        out = []
        for line, name, names in raw_imports(tree, module, is_package):
            if name.startswith("<"):
                out.append(Import(file, line, name))
            out += [Import(file, line, t) for t in self.resolve(name, names)]
        return out

    def module_imports(self) -> dict[str, list[Import]]:
        """module -> the imports of ours in it (top-level and function-local)."""
        if getattr(self, "_module_imports", None) is None:
            self._module_imports = self._read_modules()
        return self._module_imports

    def _read_modules(self) -> dict[str, list[Import]]:
        result = {}
        for module, path in self.files.items():
            rel = path.relative_to(self.root).as_posix()
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
            result[module] = self._imports(tree, rel, module, path.name == "__init__.py")
        return result

    def notebook_imports(self) -> list[Import]:
        out = []
        for path in self.notebooks:
            rel = path.relative_to(self.root).as_posix()
            for i, src in notebook_cells(path):
                out += self._imports(ast.parse(src, filename=f"{rel} cell {i}"),
                                     f"{rel} cell {i}", None, False)
        return out


def layer_violations(tree: Tree) -> list[str]:
    """Every import of a package of ours that the table does not allow."""
    bad = []
    for module, imports in tree.module_imports().items():
        own = module.split(".")[0]
        bad += [f"{imp} ({own} may import only {sorted(ALLOWED[own] | {own})})"
                for imp in imports if imp.package not in ALLOWED[own] | {own}]
    bad += [f"{imp} (notebooks may import only {sorted(NOTEBOOK_ALLOWED)})"
            for imp in tree.notebook_imports() if imp.package not in NOTEBOOK_ALLOWED]
    return bad


def _is_edge(module: str, target: str, modules: set[str]) -> bool:
    """An import that counts for cycles: of another module of ours, not of a package the
    module is in (Python imports a module's packages before the module itself, always, so
    ``survey.schema`` naming ``survey`` adds nothing; a package importing its own
    submodules does count)."""
    return target in modules and target != module and not module.startswith(target + ".")


def import_graph(tree: Tree) -> dict[str, set[str]]:
    """module -> modules of ours it imports anywhere in its text (top-level or local)."""
    return {m: {i.target for i in imps if _is_edge(m, i.target, tree.modules)}
            for m, imps in tree.module_imports().items()}


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def describe_cycle(component: frozenset[str], tree: Tree) -> str:
    """The edges of a cycle with the file and line of each import."""
    edges = [str(i) for m in sorted(component) for i in tree.module_imports()[m]
             if i.target in component and _is_edge(m, i.target, tree.modules)]
    return " <-> ".join(sorted(component)) + ": " + "; ".join(edges)


# --- the code base ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tree() -> Tree:
    return Tree(ROOT)


def test_the_table_is_layered():
    """No upward arrows in the table itself: each package imports only packages listed
    before it, so the layers form a chain without loops."""
    order = list(ALLOWED)
    for i, pkg in enumerate(order):
        assert ALLOWED[pkg] <= set(order[:i]), pkg
    assert "workbench" not in NOTEBOOK_ALLOWED


def test_every_package_of_the_repository_is_in_the_table():
    """A new top-level package cannot escape the check: every folder of Python modules at
    the top of the repository is a layer of the table (or a known non-code folder)."""
    code = {p.parent.name for p in ROOT.glob("*/*.py") if p.name != "__init__.py"}
    layers = {p.parent.name for p in ROOT.glob("*/__init__.py")} | code
    assert layers - NOT_LAYERS == set(ALLOWED)
    for name in (NOT_LAYERS & {p.parent.name for p in ROOT.glob("*/__init__.py")}) - {"tests"}:
        assert not [p.name for p in (ROOT / name).rglob("*.py") if p.name != "__init__.py"], name


def test_the_checker_sees_the_code_and_the_notebooks(tree):
    imports = tree.module_imports()
    assert {"core.errors", "survey.ingest", "analysis.effects", "evaluation.study_tables",
            "workbench.pipeline"} <= set(imports)
    assert any(i.package == "survey" for i in imports["workbench.pipeline"])
    assert any(i.line > 1 and i.package == "survey" for i in imports["survey.ingest"])
    names = {p.relative_to(ROOT).as_posix() for p in tree.notebooks}
    assert {"notebooks/03_effects.ipynb",
            "notebooks/training/why_82_percent_improved.ipynb"} <= names
    assert any(i.package == "evaluation" for i in tree.notebook_imports())


def test_every_import_follows_the_table(tree):
    bad = layer_violations(tree)
    assert bad == [], "imports against docs/architecture.md:\n" + "\n".join(bad)


def test_no_import_cycles_inside_the_packages(tree):
    """Function-local imports count: a late import only hides a cycle."""
    found = cycles(import_graph(tree))
    assert found == [], "\n".join(describe_cycle(c, tree) for c in found)


# --- the checker finds what it should (a planted tree) ---------------------------------------

def _plant(root: Path, files: dict[str, str]) -> Tree:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return Tree(root)


def _notebook(*cells: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "source": c, "metadata": {},
                                  "outputs": [], "execution_count": None} for c in cells]
                       + [{"cell_type": "markdown", "source": "import workbench"}],
                      "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_planted_bad_imports_of_every_kind_are_found(tmp_path):
    tree = _plant(tmp_path, {
        "core/__init__.py": "",
        "core/errors.py": "import json\nimport survey.readers\n",                 # upward
        "survey/__init__.py": ("import importlib\n_API = {'f': 'analysis.stats'}\n"
                               "def __getattr__(n):\n"
                               "    return importlib.import_module(_API[n])\n"),  # table
        "survey/readers.py": "from core.errors import E\n"                        # allowed
                             "def late():\n    from analysis import stats\n",      # local
        "analysis/__init__.py": "",
        "analysis/stats.py": "from ..survey import readers\n",      # relative, above the top
        "evaluation/__init__.py": "",
        "evaluation/pages.py": ("import importlib\n"
                                "def f():\n"
                                "    importlib.import_module('workbench.cli')\n"   # literal
                                "    importlib.import_module(f'workbench.commands.{1}')\n"
                                "    __import__('workbench')\n"),
        "workbench/__init__.py": "",
        "workbench/cli.py": "from evaluation import pages\nimport survey, analysis, core\n",
        "notebooks/01.ipynb": _notebook("%matplotlib inline\nimport pandas as pd\n"
                                        "from evaluation import pages",
                                        "!ls\nfrom workbench.cli import main"),
        "notebooks/training/t.ipynb": _notebook("def f():\n    import workbench.cli"),
    })
    bad = layer_violations(tree)
    expected = [
        "core/errors.py:2 imports survey.readers",
        "survey/__init__.py:4 imports analysis.stats",
        "survey/readers.py:3 imports analysis.stats",
        "analysis/stats.py:1 imports <relative import above the top package>",
        "evaluation/pages.py:3 imports workbench.cli",
        "evaluation/pages.py:4 imports workbench",
        "evaluation/pages.py:5 imports workbench",
        "notebooks/01.ipynb cell 1:2 imports workbench.cli",
        "notebooks/training/t.ipynb cell 0:2 imports workbench.cli",
    ]
    assert sorted(b.split(" (")[0] for b in bad) == sorted(expected), bad
    assert not any(b.startswith("workbench/") for b in bad)


def test_a_planted_cycle_is_found_with_its_lines(tmp_path):
    tree = _plant(tmp_path, {
        "survey/__init__.py": "from survey import a\n",          # a package's own submodule
        "survey/e.py": "import survey\nfrom . import d\n",   # its package: always loaded first
        "survey/a.py": "from survey.b import g\n",
        "survey/b.py": "def g():\n    from . import c\n",      # the cycle hides in a function
        "survey/c.py": "from .a import x\n",
        "survey/d.py": "from survey import a, b\n",            # imports the cycle, not in it
    })
    graph = import_graph(tree)
    assert graph["survey.d"] == {"survey.a", "survey.b"}
    assert graph["survey"] == {"survey.a"} and graph["survey.e"] == {"survey.d"}
    [cycle] = cycles(graph)
    assert cycle == {"survey.a", "survey.b", "survey.c"}
    text = describe_cycle(cycle, tree)
    assert "survey/b.py:2 imports survey.c" in text and "survey/c.py:1 imports survey.a" in text

