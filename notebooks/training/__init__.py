"""Package data: the counsellor-training notebooks."""
