#!/bin/sh
# Re-create the three bundled example studies from their committed seeds.
# The output is byte-identical to the committed files (tests/test_examples.py checks it).
# Run from the repository root:  sh examples/make_examples.sh
set -eu
cd "$(dirname "$0")/.."
WORKBENCH="${WORKBENCH:-.venv/bin/workbench}"
[ -x "$WORKBENCH" ] || WORKBENCH="python -m workbench"

$WORKBENCH simulate examples/single-school-pre-post --preset single-school --seed 8261 --force
$WORKBENCH simulate examples/county-cluster-trial --preset county --seed 20240609 --force
$WORKBENCH simulate examples/two-school-comparison --preset two-school --seed 20250311 --force
