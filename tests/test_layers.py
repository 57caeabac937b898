"""Layering rules: analysis never imports survey or workbench; survey never imports workbench."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(package: str):
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    yield path, a.name
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, node.module


def test_analysis_imports_neither_survey_nor_workbench():
    bad = [(p.name, m) for p, m in _imports("analysis") if m.split(".")[0] in ("survey", "workbench")]
    assert bad == []


def test_survey_never_imports_workbench():
    bad = [(p.name, m) for p, m in _imports("survey") if m.split(".")[0] == "workbench"]
    assert bad == []
