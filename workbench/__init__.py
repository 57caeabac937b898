"""The command-line and pipeline layer of Survey Workbench.

It composes :mod:`survey` (instruments, studies, ingestion, validation, privacy,
scoring), :mod:`analysis` (statistics and figures) and :mod:`evaluation` (what the
notebooks call); none of them imports it.

Start-up cost: ``jsonschema`` (imported by our schema checks, and by papermill and
nbconvert through ``nbformat``) imports ``rfc3987_syntax`` eagerly, which builds about 35
Lark parsers at import: 1.2 s in every workbench process on a 2-core machine
(python-jsonschema/jsonschema#1428). That package only checks the ``iri`` and
``iri-reference`` formats, which neither our schemas nor notebook files use, so workbench
processes (the CLI and the notebook runners) leave it out; ``jsonschema`` then simply has no
IRI checker. Code that imports only :mod:`survey` is not affected.
"""

import sys as _sys

_sys.modules.setdefault("rfc3987_syntax", None)

__version__ = "0.1.0"
