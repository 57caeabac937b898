"""Synthetic frames in the shapes of the issue-14 contracts (docs: /work/notes/team.md), for
the delivery page's tests: children, a contact log, protocol_met, the fidelity summary,
mentor load, triggered visits, dosage and tables/dose.csv. Small and deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd

ID = "student_id"
MONTHS = [f"2024-{m:02d}" for m in range(3, 13)] + ["2025-01"]
NOT_EXPECTED = {"2024-08"}  # the summer break


def children(n_per_school=(12, 10, 3, 11, 9, 4), seed=1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    k = 0
    for s, n in enumerate(n_per_school):
        arm = "treatment" if s % 2 == 0 else "control"
        for _ in range(n):
            k += 1
            rows.append({ID: f"p{rng.integers(1e8, 1e9)}x{k}", "arm": arm,
                         "school": f"school_{s + 1}"})
    return pd.DataFrame(rows)


def contacts(kids: pd.DataFrame, seed=2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for r in kids.itertuples(index=False):
        rate = 1.4 if r.arm == "treatment" else 0.08
        mentor = f"m{hash(r.school) % 7}" if r.arm == "treatment" else None
        for mo in MONTHS:
            if mo in NOT_EXPECTED:
                continue
            for _ in range(rng.poisson(rate)):
                rows.append({ID: getattr(r, ID), "date": pd.Timestamp(f"{mo}-10"),
                             "activity": rng.choice(["home_visit", "phone_call"]),
                             "mentor_id": mentor, "trigger": None, "duration_min": np.nan})
    return pd.DataFrame(rows)


def months() -> pd.DataFrame:
    return pd.DataFrame({"month": MONTHS, "expected": [m not in NOT_EXPECTED for m in MONTHS]})


def protocol_met(kids: pd.DataFrame, log: pd.DataFrame) -> pd.DataFrame:
    prog = kids[kids["arm"] == "treatment"]
    log = log.assign(period=log["date"].dt.strftime("%Y-%m"))
    rows = []
    for r in prog.itertuples(index=False):
        cid = getattr(r, ID)
        for act in ("home_visit", "phone_call"):
            for mo in MONTHS:
                if mo in NOT_EXPECTED:
                    continue
                n = int(((log[ID] == cid) & (log["activity"] == act) & (log["period"] == mo)).sum())
                rows.append({ID: cid, "activity": act, "period": mo,
                             "period_start": pd.Timestamp(f"{mo}-01"), "n_contacts": n,
                             "required": 1, "met": n >= 1})
    return pd.DataFrame(rows)


def summary(met: pd.DataFrame, kids: pd.DataFrame, min_cell=5) -> pd.DataFrame:
    """tables/fidelity.csv in the contract's columns (child-periods met, children counted)."""
    m = met.merge(kids, on=ID)
    rows = []
    for act, g in m.groupby("activity"):
        rows.append({"section": "protocol", "activity": act, "level": "overall", "group": None,
                     "period": None, "n_children": g[ID].nunique(), "n_periods": len(g),
                     "n_met": int(g["met"].sum()), "share_met": g["met"].mean()})
        for arm, ga in g.groupby("arm"):
            rows.append({"section": "protocol", "activity": act, "level": "arm", "group": arm,
                         "period": None, "n_children": ga[ID].nunique(), "n_periods": len(ga),
                         "n_met": int(ga["met"].sum()), "share_met": ga["met"].mean()})
        for s, gs in g.groupby("school"):
            rows.append({"section": "protocol", "activity": act, "level": "school", "group": s,
                         "period": None, "n_children": gs[ID].nunique(), "n_periods": len(gs),
                         "n_met": int(gs["met"].sum()), "share_met": gs["met"].mean()})
        for s, gs in g.groupby("school"):  # mentors: one per school here
            rows.append({"section": "protocol", "activity": act, "level": "mentor",
                         "group": f"mentor_{s[-1]}", "period": None,
                         "n_children": gs[ID].nunique(), "n_periods": len(gs),
                         "n_met": int(gs["met"].sum()), "share_met": gs["met"].mean()})
    out = pd.DataFrame(rows)
    out["value"] = np.nan
    out["limit"] = np.nan
    out["suppressed"] = out["n_children"] < min_cell
    out.loc[out["suppressed"], ["n_met", "share_met", "n_periods"]] = np.nan
    return out


def mentor_load() -> pd.DataFrame:
    rows = []
    for mo in MONTHS:
        for k in range(8):
            rows.append({"mentor_id": f"m{k}", "month": mo, "n_children": 2 + (k == 3) * 2
                         + (k == 5 and mo > "2024-09"), "limit": 3})
    out = pd.DataFrame(rows)
    out["over_limit"] = out["n_children"] > out["limit"]
    return out


def triggered(kids: pd.DataFrame) -> pd.DataFrame:
    prog = kids[kids["arm"] == "treatment"][ID].tolist()
    rows = []
    for i, cid in enumerate(prog):
        trig = ["mood", "illness", "grades"][i % 3] if i % 4 else "lateness"
        done = i % 5 != 0
        rows.append({ID: cid, "trigger": trig, "date": pd.Timestamp("2024-04-02"),
                     "activity": "home_visit", "within_days": 3,
                     "done_date": pd.Timestamp("2024-04-03") if done else pd.NaT,
                     "done": done})
    return pd.DataFrame(rows)


def dose_table(randomized=True) -> pd.DataFrame:
    rows = []
    for arm, bands in (("treatment", ["0–49%", "50–79%", "80–100%"]), ("control", ["0%"])):
        for k, b in enumerate(bands):
            rows.append({"analysis": "dose_band", "outcome": "communication", "arm": arm,
                         "band": b, "n": [14, 2, 30][k] if arm == "treatment" else 120,
                         "mean_change": [0.12, np.nan, 0.4][k] if arm == "treatment" else 0.05,
                         "ci_low": [0.0, np.nan, 0.3][k] if arm == "treatment" else -0.02,
                         "ci_high": [0.24, np.nan, 0.5][k] if arm == "treatment" else 0.12,
                         "causal_status": "association",
                         "suppressed": bool(arm == "treatment" and k == 1)})
    if randomized:
        rows.append({"analysis": "cace_received", "outcome": "communication", "arm": "treatment",
                     "n": 180, "estimate": 0.41234, "se": 0.1, "df": 8.3, "df_method":
                     "Bell-McCaffrey", "ci_low": 0.18, "ci_high": 0.64, "p_value": 0.0042,
                     "first_stage_f": 41.7, "weak_instrument": False,
                     "causal_status": "complier_effect", "suppressed": False})
        rows.append({"analysis": "cace_share", "outcome": "communication", "arm": "treatment",
                     "n": 180, "estimate": 0.5567, "se": 0.2, "df": 8.3, "df_method":
                     "Bell-McCaffrey", "ci_low": 0.1, "ci_high": 1.01, "p_value": 0.021,
                     "first_stage_f": 7.2, "weak_instrument": True,
                     "causal_status": "complier_effect", "suppressed": False})
    rows.append({"analysis": "contamination", "outcome": None, "arm": "control", "n": 120,
                 "estimate": 7, "causal_status": "count", "suppressed": False})
    return pd.DataFrame(rows)
