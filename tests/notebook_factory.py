"""Small notebooks for pipeline tests: a typed ``parameters`` cell plus code cells."""

from __future__ import annotations

from pathlib import Path

import nbformat


def write_notebook(path: Path, params: str, *cells: str) -> Path:
    """Write a notebook whose first cell (tagged ``parameters``) is ``params``."""
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [p] + [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, str(path))
    return path
