"""``workbench claim``: audit a claim such as "82% of 61 students improved".

Prints the audit (intervals of the claimed share, the share that looks improved with
no change at all, the growth that would by itself give the claimed share, the
children per group a randomized comparison needs for standardized effects of 0.2, 0.3
and 0.5) and the verdict in plain words, the same sentences as the claims page
(``analysis.claims.audit_claim``), or ``--json``.

Optional arguments read when the parser defines them: ``--observed X N`` (children of
the program group who improved, and its size), ``--icc`` and ``--cluster-size`` (plan a
trial that assigns whole clusters of that size), ``--cluster-name`` (their name).
"""

from __future__ import annotations

import json
import math

from core.errors import WorkbenchError


def _options(args) -> dict:
    """The audit's optional inputs from ``args`` (absent options count as not given)."""
    kw = {}
    observed = getattr(args, "observed", None)
    if observed:
        x, n = observed
        kw["observed"] = {"treatment": (int(x), int(n))}
    icc = getattr(args, "icc", None)
    size = getattr(args, "cluster_size", None)
    if (icc is None) != (size is None):
        raise WorkbenchError("CLAIM_ARGUMENTS", "--icc and --cluster-size go together: the ICC "
                             "of the clusters a trial would assign and their size (children)")
    if icc is not None:
        kw["clusters"] = [(float(size), float(icc))]
        name = getattr(args, "cluster_name", None) or "clusters"
        kw["cluster_label"] = {"en": name, "zh": name if name != "clusters" else "群"}
    return kw


def _n(v) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else str(int(v))


def main(args) -> int:
    from analysis.claims import audit_claim

    selection = ({"below_percentile": args.selected_below}
                 if args.selected_below is not None else None)
    try:
        audit = audit_claim(args.proportion, args.n, reliability=args.reliability,
                            improved=args.improved, selection=selection, levels=args.levels,
                            alpha=args.alpha, power=args.power, has_baseline=args.baseline,
                            n_schools=args.schools, claim=args.text, lang=args.lang,
                            **_options(args))
    except ValueError as err:
        raise WorkbenchError("CLAIM_ARGUMENTS", str(err)) from None
    if args.json:
        out = audit.to_dict(lang=args.lang)
        out["sample_sizes"] = [{k: (v.item() if hasattr(v, "item") else v)
                                for k, v in r.items()}
                               for r in audit.sizes.to_dict("records")]
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return 0
    t = audit.table.iloc[0]
    zh = args.lang == "zh"
    s = audit.sizes
    eff = "/".join(f"{d:g}" for d in s["effect"])
    lines = [
        f"{'声称' if zh else 'claim'}: {t['claim']}",
        f"  {'95%置信区间 (Wilson)' if zh else '95% CI (Wilson)'}: "
        f"{t['ci_low']:.3f} - {t['ci_high']:.3f}",
        f"  {'95%置信区间 (Clopper-Pearson)' if zh else '95% CI (Clopper-Pearson)'}: "
        f"{t['cp_low']:.3f} - {t['cp_high']:.3f}",
        f"  {'无变化时的改善比例' if zh else 'share improved with no change'}: "
        f"{t['null_proportion']:.3f} ({t['null_method']})",
        f"  {'产生声称比例的成长幅度（标准差）' if zh else 'growth that gives the claimed share (SD)'}: "
        f"{'-' if math.isnan(t['maturation_drift_sd']) else format(t['maturation_drift_sd'], '.2f')}",
        f"  {'每组儿童人数' if zh else 'children per group'}, d = {eff}: "
        + " / ".join(_n(v) for v in s["n_per_group"]),
    ]
    if s["clusters_per_group"].notna().any():
        lines.append(f"  {'每组群数' if zh else 'clusters per group'}, d = {eff}: "
                     + " / ".join(_n(v) for v in s["clusters_per_group"])
                     + f" ({'设计效应' if zh else 'design effect'} {t['design_effect']:.2f})")
    if not math.isnan(t["observed_treatment_ci_low"]):
        lines.append(f"  {'观察到的改善比例' if zh else 'observed share improved'}: "
                     f"{t['observed_treatment']:.3f} ({t['observed_treatment_ci_low']:.3f} - "
                     f"{t['observed_treatment_ci_high']:.3f}), {t['data_support']}")
    lines += ["", *audit.paragraphs(args.lang)]
    print("\n".join(lines))
    return 0
