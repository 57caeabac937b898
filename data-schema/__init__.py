"""Package data: the JSON Schemas of study, instrument and item-text files (installed as
``survey.schemas``; read with :func:`core.resources.schema_dir`)."""
