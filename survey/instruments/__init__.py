"""Package data: the bundled instruments (YAML)."""
