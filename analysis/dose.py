"""Dose next to outcomes: dose-response by band, the complier effect, and contamination.

A program is defined by what adults do for each child, and children receive different
amounts of it. :func:`dose_table` puts the dose each child received (the per-child table
of :func:`analysis.fidelity.dosage`) next to the outcomes, in three kinds of rows whose
causal status differs and is stated in the ``causal_status`` column:

``dose_band`` (``association``)
    The mean outcome change (last wave minus baseline, children measured at both) --
    or the mean last-wave level when the study has no baseline score (one wave, or
    repeated cross-sections; ``measure`` says which) -- by dose band and arm. Bands of
    ``share_met``, the share of the protocol's rule-periods met: ``none`` (0), ``<50%``,
    ``50-79%``, ``>=80%`` (the cut points are ``cuts=(0.5, 0.8)``; the top band starts at
    the default ``received_share`` of the protocol). Fixed, named bands rather than
    quantiles, so that the same band means the same dose in every arm and every study.
    Children who received more differ from those who received less (the more motivated
    mentors, the easier to reach families), so a gradient here is an association, not
    an effect.
``cace_received`` (``complier_effect``), ``cace_share`` (``dose_effect``)
    Only for ``randomized`` and ``cluster_randomized`` designs: random assignment (arm
    vs control) as the instrument for the dose received -- ``received`` (0/1: the child
    received the protocol, ``share_met >= received_share``) and ``share_met``
    (continuous, 0-1) -- by two-stage least squares (:func:`analysis.iv.two_stage_cr2`).
    The specification is the primary ANCOVA's (:mod:`analysis.effects`): the last-wave
    outcome on the dose, the baseline outcome (when there is one), the design's
    covariates (from the baseline row, text dummy-coded) and block fixed effects, on the
    same complete cases (the same private helpers build the design matrix); CR2 standard
    errors clustered at the OUTERMOST cluster level with Bell-McCaffrey df (HC2 with
    ``n - p`` df without clusters) -- the ``ols_cr2`` / ``ancova_hc2`` models. (With 40
    or more clusters the primary model is the mixed model; CR2 stays valid there.) With
    several program arms each is compared with the control on the children of those two
    arms. ``estimate`` of ``cace_received`` is the complier average causal effect (the
    effect of receiving the protocol for the children who receive it because they were
    assigned to the program) -- but only if a child below the threshold gets nothing
    from the program: when partial delivery helps too (an effect that grows with the
    share delivered), assignment moves the outcome outside the binary dose, the
    exclusion restriction fails, and the estimate converges to ITT / first stage, which
    overstates the complier effect. ``estimate`` of ``cace_share`` is a different
    estimand (``dose_effect``): the effect of the full protocol (share 0 to 1) under the
    assumption that the effect is proportional to the share delivered (linear in the
    dose, the same for every child); it is the row to lead with when partial delivery
    plausibly helps. Both assume that assignment changes the outcome only through the
    dose as coded (exclusion) and that nobody receives less because they were assigned
    (monotonicity). ``first_stage_f`` < 10 flags a weak instrument (``weak_instrument``):
    the estimate is then unreliable. Whether the program had any effect at all is
    tested by ``ar_p_value``: the Anderson-Rubin test of no effect, which with one
    instrument is the test of assignment in the reduced-form (intention-to-treat)
    regression with the same CR2 / Bell-McCaffrey inference -- the same p for both rows,
    valid whichever dose coding is right and however weak the first stage. ``p_value``
    is the Wald p of the 2SLS coefficient (as ``estimatr::iv_robust`` reports it).
``contamination`` (``count``)
    Control children with any logged program contact (``band = "any_contact"``, ``n``
    the count, ``estimate`` its share of the control children with a dosage row).

Other designs get no CACE rows; a one-group design (``pre_post``, no arm) gets its dose
bands with ``arm`` NaN and no contamination row. :func:`cace_not_applicable` gives the
reason in both languages and :func:`dose_table` stores it in ``table.attrs["cace_reason"]`` (``None``
when the CACE rows are there).

Dose coding: a child of whom the protocol expected nothing (``share_met`` NaN: no time
in the program) has dose 0 (``received`` is False for them in the dosage table too). A
child with an outcome but no dosage row is left out of the dose rows (counted in
``table.attrs["notes"]``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.effects import design_matrix, endline_frame
from analysis.iv import _standardize, _tsls

__all__ = ["BANDS", "CAUSAL_STATUS", "COLUMNS", "CACE_DESIGNS", "cace_not_applicable", "contamination",
           "dose_bands", "dose_table"]

COLUMNS = ["analysis", "outcome", "arm", "band", "n", "mean_change", "estimate", "se", "df",
           "df_method", "ci_low", "ci_high", "p_value", "ar_p_value", "first_stage_f",
           "weak_instrument", "causal_status", "suppressed", "measure"]
"""Columns, in order, of :func:`dose_table` (``tables/dose.csv``)."""

CAUSAL_STATUS = {
    "dose_band": "association",
    "cace_received": "complier_effect",
    "cace_share": "dose_effect",
    "contamination": "count",
}
"""The ``causal_status`` of each ``analysis``."""

CACE_DESIGNS = ("randomized", "cluster_randomized")
"""Designs whose assignment is random, hence an instrument for the dose."""

BANDS = ("none", "<50%", "50-79%", ">=80%")
"""Labels of the default dose bands (``cuts=(0.5, 0.8)``)."""

_NOT_RANDOM = {
    "en": ("No complier effect is estimated: the groups of a {type} design were not assigned "
           "at random, so assignment cannot serve as an instrument for the dose received."),
    "zh": ("未估计依从者平均因果效应：{type_zh}设计的分组并非随机分配，"
           "因此不能以分组作为实际接受剂量的工具变量。"),
}
_NO_GROUPS = {
    "en": ("No complier effect is estimated: a one-group study has no randomized comparison "
           "group, so nothing can serve as an instrument for the dose received."),
    "zh": "未估计依从者平均因果效应：单组研究没有随机分配的对照组，因此没有可作为实际接受剂量之工具变量的分组。",
}
_TYPE_ZH = {"cross_sectional": "横断面", "controlled": "非随机对照"}


def cace_not_applicable(design) -> dict[str, str] | None:
    """Why a design gets no complier-effect rows, in English and Chinese; ``None`` if it does.

    Examples
    --------
    >>> from core.design import Design
    >>> from analysis.dose import cace_not_applicable
    >>> cace_not_applicable(Design(type="cluster_randomized", id="id", arm="arm",
    ...                            control="c", clusters=("school",))) is None
    True
    >>> cace_not_applicable(Design(type="controlled", id="id", arm="arm", control="c"))["en"][:31]
    'No complier effect is estimated'
    """
    if design.type in CACE_DESIGNS:
        return None
    if design.type == "pre_post" or design.arm is None:
        return dict(_NO_GROUPS)
    return {"en": _NOT_RANDOM["en"].format(type=design.type.replace("_", "-")),
            "zh": _NOT_RANDOM["zh"].format(type_zh=_TYPE_ZH.get(design.type, design.type))}


def dose_bands(share_met, cuts: Sequence[float] = (0.5, 0.8)) -> pd.Series:
    """The dose band of each share of the protocol met (NaN counts as none).

    Parameters
    ----------
    share_met : array-like of float in [0, 1]
    cuts : two floats
        Lower edges of the middle and the top band.

    Returns
    -------
    Series of str: ``none`` (0), ``<c1%``, ``c1-(c2-1)%``, ``>=c2%``.

    Examples
    --------
    >>> from analysis.dose import dose_bands
    >>> dose_bands([0, 0.2, 0.5, 0.79, 0.8, 1.0, float("nan")]).tolist()
    ['none', '<50%', '50-79%', '50-79%', '>=80%', '>=80%', 'none']
    """
    c1, c2 = (float(c) for c in cuts)
    if not 0 < c1 < c2 <= 1:
        raise ValueError("cuts must be two increasing shares in (0, 1]")
    s = pd.Series(np.asarray(share_met, dtype=float)).fillna(0.0)
    labels = _band_labels(cuts)
    out = np.select([s <= 0, s < c1, s < c2], labels[:3], labels[3])
    return pd.Series(out, index=s.index, dtype=object)


def _band_labels(cuts) -> list[str]:
    a, b = (round(100 * float(c)) for c in cuts)
    return ["none", f"<{a}%", f"{a}-{b - 1}%", f">={b}%"]


def contamination(dosage: pd.DataFrame, *, arm: str = "arm", control) -> pd.DataFrame:
    """Children with any logged program contact, per arm (CONSORT counts).

    The control row is the contamination of the control arm; the program arms' rows
    count the children the program reached at all.

    Parameters
    ----------
    dosage : DataFrame
        :func:`analysis.fidelity.dosage`'s table (one row per child): the ``arm`` column
        and ``any_contact`` (bool).
    arm : str
        The arm column.
    control : str
        The control arm's label.

    Returns
    -------
    DataFrame
        One row per arm, the control first: ``arm``, ``n`` (children), ``n_with_contacts``
        (children with at least one logged contact).

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.dose import contamination
    >>> d = pd.DataFrame({"arm": ["program"] * 3 + ["control"] * 4,
    ...                   "any_contact": [True, True, False, True, False, False, False]})
    >>> contamination(d, control="control")
           arm  n  n_with_contacts
    0  control  4                1
    1  program  3                2
    """
    for c in (arm, "any_contact"):
        if c not in dosage.columns:
            raise ValueError(f"dosage table: column {c!r} missing (expected {arm!r} and 'any_contact')")
    a = dosage[arm].astype("string")
    contact = dosage["any_contact"].fillna(False).astype(bool)
    tab = (pd.DataFrame({"arm": a, "c": contact}).dropna(subset=["arm"])
           .groupby("arm", sort=True)["c"].agg(n="size", n_with_contacts="sum").reset_index())
    tab["arm"] = tab["arm"].astype(object)
    first = tab["arm"] == str(control)
    tab = pd.concat([tab[first], tab[~first]], ignore_index=True)
    tab["n"] = tab["n"].astype(np.int64)
    tab["n_with_contacts"] = tab["n_with_contacts"].astype(np.int64)
    return tab


def _outcome_map(outcomes) -> dict[str, str]:
    if isinstance(outcomes, str):
        return {outcomes: outcomes}
    if isinstance(outcomes, Mapping):
        return {str(k): str(v) for k, v in outcomes.items()}
    return {str(c): str(c) for c in outcomes}


def _row(**kw) -> dict:
    row = dict.fromkeys(COLUMNS, np.nan)
    row.update(suppressed=False, weak_instrument=np.nan)
    row.update(kw)
    row["causal_status"] = CAUSAL_STATUS[row["analysis"]]
    return row


def _band_rows(w: pd.DataFrame, design, oid: str, labels: list[str], min_cell: int) -> list[dict]:
    has_b = "_y0" in w.columns
    change = (w["_y"] - w["_y0"]) if has_b else w["_y"]
    measure = "change" if has_b else "level"
    ok = change.notna()
    arm = w[design.arm].astype(str) if design.arm else pd.Series("", index=w.index)
    frame = pd.DataFrame({"arm": arm, "band": w["_band"], "v": change})[ok]
    rows = []
    if design.arm is None:  # one group (pre_post): its bands, arm NaN
        arms = [""]
    else:
        arms = [str(design.control)] + sorted(set(pd.unique(frame["arm"])) - {str(design.control)})
    # every arm's bands in one grouping (each group's rows, and so its mean, as when the
    # arm's rows are selected first)
    g = frame.groupby(["arm", "band"], sort=False)["v"]
    sizes, means = g.size().to_dict(), g.mean().to_dict()
    for a in arms:
        block = []
        for b in labels:
            n = int(sizes.get((a, b), 0))
            m = float(means[(a, b)]) if n else np.nan
            block.append(_row(analysis="dose_band", outcome=oid, arm=a or np.nan, band=b, n=n,
                              mean_change=m, measure=measure))
        small = [r for r in block if 0 < r["n"] < min_cell]
        if len(small) == 1:
            # complementary suppression: the arm's total and mean are published elsewhere,
            # so one hidden band could be recovered by subtraction; hide the next smallest too
            others = sorted((r for r in block if r["n"] >= min_cell), key=lambda r: r["n"])
            small += others[:1]
        for r in small:
            r.update(n=np.nan, mean_change=np.nan, suppressed=True)
        rows += block
    return rows


def _cace_rows(w: pd.DataFrame, design, oid: str, arms: list[str], alpha: float,
               notes: list[str]) -> list[dict]:
    rows = []
    outer = design.clusters[0] if design.clusters else None
    has_b = "_y0" in w.columns
    for a in arms:
        sub = w[w[design.arm].astype(str).isin([a, str(design.control)])].reset_index(drop=True)
        try:
            X, idx = design_matrix(sub, design, [a], baseline=has_b)
        except ValueError as e:
            notes.append(f"{oid}, {a}: {e}")
            continue
        used = sub.iloc[idx].reset_index(drop=True)
        y = used["_y"].to_numpy(dtype=float)
        z = X[f"arm[{a}]"].to_numpy(dtype=float)
        W = _standardize(X.drop(columns=f"arm[{a}]").to_numpy(dtype=float))
        g = used[outer].to_numpy() if outer else None
        for analysis, col in (("cace_received", "_received"), ("cace_share", "_share")):
            d = used[col].to_numpy(dtype=float)
            try:
                r = _tsls(y, d, z, W, g, alpha=alpha)
            except ValueError as e:
                notes.append(f"{oid}, {a}, {analysis}: {e}")
                continue
            rows.append(_row(analysis=analysis, outcome=oid, arm=a, n=r["n"],
                             **{k: r[k] for k in ("estimate", "se", "df", "df_method", "ci_low",
                                                  "ci_high", "p_value", "ar_p_value",
                                                  "first_stage_f",
                                                  "weak_instrument")}))
    return rows


def dose_table(
    scores: pd.DataFrame,
    dosage: pd.DataFrame,
    design,
    outcomes,
    *,
    arms: Sequence[str] | None = None,
    cuts: Sequence[float] = (0.5, 0.8),
    min_cell: int = 1,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The dose table (``tables/dose.csv``): dose bands, complier effects, contamination.

    See the module docstring for what each row estimates and how.

    Parameters
    ----------
    scores : DataFrame
        Long scored data, as :func:`analysis.effects.estimate_effects` takes it: one row
        per child and wave with the design's columns and the outcome columns.
    dosage : DataFrame
        :func:`analysis.fidelity.dosage`'s table: ``<design.id>``, ``arm``, ``share_met``,
        ``received``, ``any_contact`` (one row per child, every arm).
    design : core.design.Design
    outcomes : str, list of str, or mapping outcome_id -> column
    arms : sequence of str, optional
        Program arms that get CACE rows (e.g. ``protocol.program_arms(...)``); default
        every arm but the control.
    cuts : two floats
        Dose band edges (:func:`dose_bands`).
    min_cell : int
        Band rows about fewer than ``min_cell`` children are suppressed (``n`` and
        ``mean_change`` NaN, ``suppressed`` True), with one more band of the same arm
        when only one would be hidden (complementary suppression); so is a
        contamination count below ``min_cell``.
    alpha : float
        CIs at level ``1 - alpha``.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`:

        ``analysis``
            ``dose_band``, ``cace_received``, ``cace_share`` or ``contamination``.
        ``outcome``, ``arm``
            Outcome id (NaN for contamination) and arm (for CACE rows the program arm
            compared with the control).
        ``band``
            Dose band (``dose_band`` rows), ``any_contact`` (contamination), else NaN.
        ``n``
            Children in the band / used by the 2SLS fit / control children with contacts.
        ``mean_change``
            Mean change (or last-wave level, see ``measure``) of the band.
        ``estimate``, ``se``, ``df``, ``df_method``, ``ci_low``, ``ci_high``, ``p_value``
            The 2SLS estimate and its CR2 (HC2) inference (:func:`analysis.iv.two_stage_cr2`;
            ``p_value`` is the Wald p); for contamination, ``estimate`` is the share of
            control children with contacts.
        ``ar_p_value``
            Anderson-Rubin test of no effect (CACE rows): the CR2 (HC2) test of assignment
            in the reduced-form (ITT) regression, the test of whether the program had any
            effect on the outcome.
        ``first_stage_f``, ``weak_instrument``
            Robust first-stage F of the assignment, and F < 10.
        ``causal_status``
            ``association`` (dose bands), ``complier_effect`` (``cace_received``),
            ``dose_effect`` (``cace_share``: the full protocol's effect, assuming an effect
            proportional to the share), ``count`` (contamination).
        ``suppressed``
            Small-cell suppression (band and contamination rows).
        ``measure``
            ``change`` or ``level`` for band rows (whether ``mean_change`` is last wave
            minus baseline or the last-wave level), else NaN.

        ``attrs["cace_reason"]``: ``None``, or ``{"en": ..., "zh": ...}`` when the design
        gets no CACE rows. ``attrs["notes"]``: list of str, models that could not be
        fitted and children left out.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from core.design import Design
    >>> from analysis.dose import dose_table
    >>> rng = np.random.default_rng(3)
    >>> n = 240
    >>> school = np.repeat(np.arange(12), 20)
    >>> arm = np.where(school % 2 == 1, "program", "control")
    >>> share = np.where(arm == "program", rng.uniform(0.3, 1, n), 0.0)
    >>> y0 = rng.normal(size=n)
    >>> y1 = y0 + 0.5 * share + rng.normal(size=12)[school] + rng.normal(size=n)
    >>> ids = [f"c{i}" for i in range(n)]
    >>> scores = pd.DataFrame({"id": ids * 2, "wave": ["t0"] * n + ["t1"] * n,
    ...                        "arm": list(arm) * 2, "school": list(school) * 2,
    ...                        "wellbeing": np.r_[y0, y1]})
    >>> dosage = pd.DataFrame({"id": ids, "arm": arm, "share_met": share,
    ...                        "received": share >= 0.8, "any_contact": share > 0})
    >>> d = Design(type="cluster_randomized", id="id", waves=("t0", "t1"), arm="arm",
    ...            control="control", clusters=("school",))
    >>> tab = dose_table(scores, dosage, d, "wellbeing", min_cell=5)
    >>> tab.groupby("analysis", sort=False).size().to_dict()
    {'dose_band': 8, 'cace_received': 1, 'cace_share': 1, 'contamination': 1}
    >>> tab.loc[tab["analysis"] == "cace_share", ["df_method", "causal_status"]].iloc[0].tolist()
    ['bell_mccaffrey', 'dose_effect']
    >>> tab.attrs["cace_reason"] is None
    True
    """
    if design.arm is not None and design.control is None:
        raise ValueError("the dose table needs the control arm's label (design.control)")
    for c in (design.id, "share_met", "received", "any_contact"):
        if c not in dosage.columns:
            raise ValueError(f"dosage table: column {c!r} missing (expected {design.id!r}, 'arm', "
                             "'share_met', 'received', 'any_contact')")
    if dosage[design.id].duplicated().any():
        dup = dosage.loc[dosage[design.id].duplicated(), design.id].iloc[0]
        raise ValueError(f"dosage table: child {dup!r} has more than one row")
    min_cell = max(int(min_cell), 1)
    labels = _band_labels(cuts)
    reason = cace_not_applicable(design)
    notes: list[str] = []
    dose = dosage.set_index(design.id)
    share = pd.to_numeric(dose["share_met"], errors="coerce").fillna(0.0)
    received = dose["received"].astype("boolean").fillna(False).astype(float)
    rows: list[dict] = []
    for oid, col in _outcome_map(outcomes).items():
        if col not in scores.columns:
            raise ValueError(f"outcome column {col!r} not in the scores")
        w = endline_frame(scores, design, col)
        # (an Index lookup, dose's ids being unique: isin is many times slower)
        known = pd.Series(dose.index.get_indexer(w[design.id]) >= 0, index=w.index)
        if (~known).any():
            notes.append(f"{oid}: {int((~known).sum())} children with the outcome have no dosage "
                         "row and are left out of the dose rows")
        w = w[known].reset_index(drop=True)
        w["_share"] = w[design.id].map(share).to_numpy(dtype=float)
        w["_received"] = w[design.id].map(received).to_numpy(dtype=float)
        w["_band"] = dose_bands(w["_share"], cuts).to_numpy()
        rows += _band_rows(w, design, oid, labels, min_cell)
        if reason is None:
            program = [str(a) for a in arms] if arms is not None else sorted(
                set(w[design.arm].dropna().astype(str)) - {str(design.control)})
            rows += _cace_rows(w, design, oid, program, alpha, notes)
    arm_col = "arm" if "arm" in dosage.columns else design.arm
    if design.arm is not None and arm_col in dosage.columns:
        cont = contamination(dosage, arm=arm_col, control=design.control)
        for _, r in cont[cont["arm"] == str(design.control)].iterrows():
            k, n = int(r["n_with_contacts"]), int(r["n"])
            small = 0 < k < min_cell
            rows.append(_row(analysis="contamination", arm=r["arm"], band="any_contact",
                             n=np.nan if small else k, estimate=np.nan if small else k / n,
                             suppressed=small))
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["n"] = out["n"].astype(float)
    out.attrs["cace_reason"] = reason
    out.attrs["notes"] = notes
    return out
