"""Package data: the study notebooks (installed as ``workbench.notebooks``; read with
:func:`core.resources.notebook_dir`)."""
