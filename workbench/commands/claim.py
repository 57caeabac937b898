"""``workbench claim``: audit a claim such as "82% of 61 students improved".

Prints the audit (intervals of the claimed share, the share expected with no effect,
the sample size a comparison would need) and the verdict in plain words
(``analysis.claims.audit_claim``), or ``--json``.
"""

from __future__ import annotations

import json

from core.errors import WorkbenchError


def main(args) -> int:
    from analysis.claims import audit_claim

    selection = ({"below_percentile": args.selected_below}
                 if args.selected_below is not None else None)
    try:
        audit = audit_claim(args.proportion, args.n, reliability=args.reliability,
                            improved=args.improved, selection=selection, levels=args.levels,
                            alpha=args.alpha, power=args.power, has_baseline=args.baseline,
                            n_schools=args.schools, claim=args.text, lang=args.lang)
    except ValueError as err:
        raise WorkbenchError("CLAIM_ARGUMENTS", str(err)) from None
    if args.json:
        print(json.dumps(audit.to_dict(lang=args.lang), ensure_ascii=False, indent=2))
        return 0
    t = audit.table.iloc[0]
    zh = args.lang == "zh"
    lines = [
        f"{'声称' if zh else 'claim'}: {t['claim']}",
        f"  {'95%置信区间 (Wilson)' if zh else '95% CI (Wilson)'}: "
        f"{t['ci_low']:.3f} - {t['ci_high']:.3f}",
        f"  {'95%置信区间 (Clopper-Pearson)' if zh else '95% CI (Clopper-Pearson)'}: "
        f"{t['cp_low']:.3f} - {t['cp_high']:.3f}",
        f"  {'无效果时的改善比例' if zh else 'share improved with no effect'}: "
        f"{t['null_proportion']:.3f} ({t['null_method']})",
        f"  {'每组所需人数' if zh else 'children needed per group'}: "
        f"{'-' if t['n_per_group_needed'] != t['n_per_group_needed'] else int(t['n_per_group_needed'])}",
        "",
        audit.verdict(args.lang),
    ]
    print("\n".join(lines))
    return 0
