"""The in-process lane freezes what its imports made (``gc.freeze`` in ``warm_up``), so that
full collections during the notebooks scan only what the notebooks made; a notebook's cyclic
garbage is still collected."""

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.kernel  # an IPython shell counts as one (tests/conftest.py)


def test_warm_up_freezes_the_imports_and_a_notebooks_cycles_are_still_collected(tmp_path):
    src = textwrap.dedent(f"""
        import gc, json
        from workbench import inprocess
        inprocess.warm_up("import numpy, pandas")
        frozen = gc.get_freeze_count()
        inprocess.fresh_state({str(tmp_path)!r})
        inprocess.run_cell(
            "import weakref\\n"
            "class Node:\\n"
            "    pass\\n"
            "a, b = Node(), Node()\\n"
            "a.other, b.other = b, a\\n"          # a cycle: only the collector frees it
            "probe = weakref.ref(a)\\n"
            "big = [Node() for _ in range(10)]")
        probe = inprocess.shell().user_ns["probe"]
        alive_before = probe() is not None
        inprocess.fresh_state({str(tmp_path)!r})  # the next notebook: namespace reset
        gc.collect()
        print(json.dumps({{"frozen": frozen, "alive_before": alive_before,
                          "alive_after": probe() is not None}}))
    """)
    res = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    import json

    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["frozen"] > 10_000          # numpy's and pandas' objects are out of sight
    assert out["alive_before"] is True
    assert out["alive_after"] is False     # the notebook's cycle was collected
