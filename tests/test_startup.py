"""Start-up cost of workbench processes."""


def test_workbench_processes_skip_the_slow_iri_checker():
    """`import workbench` keeps jsonschema from building rfc3987_syntax's parsers (1.2 s)."""
    import subprocess
    import sys

    code = ("import workbench, jsonschema, sys; "
            "print(sys.modules.get('rfc3987_syntax') is None, "
            "jsonschema.FormatChecker().checks('email') is not None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]


def test_workbench_run_starts_its_lanes_before_importing_pandas():
    """`workbench run` imports the pipeline, loads the study and starts the notebook lanes
    (their kernels warm up meanwhile) before pandas is imported (0.4-0.5 s; issue 16)."""
    import subprocess
    import sys

    code = ("import sys, workbench.cli, workbench.pipeline, workbench.commands.run; "
            "print(sorted(m for m in ('pandas', 'numpy', 'matplotlib', 'scipy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
