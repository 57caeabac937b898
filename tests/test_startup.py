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
