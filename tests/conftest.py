"""Shared fixtures.

``tiny_study``: a small cluster-randomized study folder (8 schools x 20 students x
2 waves, the bundled ``rses`` instrument) that ``workbench run --only 00_data_quality``
runs in a few seconds.
"""

from __future__ import annotations

import os as _os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings as _settings

# Property and fuzz tests: deterministic in the default (CI) run, so the suite cannot
# flake; a long exploratory run (WORKBENCH_FUZZ_EXAMPLES=...) draws new examples.
_settings.register_profile("default-run", derandomize=True, deadline=None)
_settings.register_profile("explore", deadline=None)
_settings.load_profile("explore" if _os.environ.get("WORKBENCH_FUZZ_EXAMPLES") else "default-run")
# A notebook cell that hangs in a test fails after 5 minutes instead of stalling CI.
_os.environ.setdefault("WORKBENCH_CELL_TIMEOUT", "300")


TINY_STUDY_YAML = """\
id: tiny
title: {en: Tiny trial, zh: 小型试验}
language: en
design: {type: cluster_randomized, id: student_id, wave: wave, waves: [baseline, endline],
         arm: arm, control: control, clusters: [school_id], covariates: [gender, age],
         subgroups: [gender]}
instruments: [{id: rses}]
data: [{path: data/all.csv}]
privacy: {pii: [name], min_cell: 5}
outcomes: [{id: self_esteem, scale: rses.total, better: higher, primary: true}]
analysis: {alpha: 0.05, adjust: holm, seed: 1}
"""

RSES_REVERSED = (2, 5, 6, 8, 9)


def write_tiny_study(folder: Path, *, schools: int = 8, per_school: int = 20,
                     seed: int = 7) -> Path:
    """Write the tiny study into ``folder`` and return ``folder``.

    Answers follow a latent self-esteem (school effect + student effect + a small
    treatment effect at endline), keyed so that the reversed items run the other way;
    Cronbach's alpha is therefore clearly positive.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(schools):
        school = f"S{s + 1:02d}"
        arm = "treatment" if s % 2 == 0 else "control"
        school_effect = rng.normal(0, 0.3)
        for k in range(per_school):
            sid = f"{school}{k + 1:03d}"
            gender = "girl" if k % 2 else "boy"
            age = int(rng.integers(9, 14))
            trait = school_effect + rng.normal(0, 1)
            for wave in ("baseline", "endline"):
                latent = trait + (0.3 if arm == "treatment" and wave == "endline" else 0.0)
                row = {"student_id": sid, "wave": wave, "arm": arm, "school_id": school,
                       "gender": gender, "age": age, "name": f"Student {sid}"}
                for i in range(1, 11):
                    sign = -1 if i in RSES_REVERSED else 1
                    value = 2.5 + sign * 0.9 * latent + rng.normal(0, 0.6)
                    row[f"rses_{i}"] = int(np.clip(np.rint(value), 1, 4))
                rows.append(row)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(folder / "data" / "all.csv", index=False)
    (folder / "study.yaml").write_text(TINY_STUDY_YAML, encoding="utf-8")
    return folder


@pytest.fixture
def tiny_study(tmp_path) -> Path:
    """A tiny cluster-randomized study folder (``study.yaml`` + ``data/all.csv``) in tmp_path."""
    return write_tiny_study(tmp_path / "tiny")
