"""The tables of the reliability page (``01_reliability``): alpha, omega and item
statistics per instrument, scale and wave, and the response counts of item plots."""

from __future__ import annotations

import pandas as pd

from analysis import reliability


def reliability_table(study, items: pd.DataFrame):
    """Alpha, omega and item statistics per instrument, scale and wave.

    Returns
    -------
    (DataFrame, DataFrame)
        ``tables/reliability.csv`` with columns ``instrument, scale, wave, n,
        n_items, alpha, alpha_ci_low, alpha_ci_high, omega_total`` (plus
        ``alpha_std``), and ``tables/item_statistics.csv`` with ``instrument,
        scale, wave, item, n, mean, sd, r_item_rest, alpha_if_deleted``. Items
        are reverse-keyed by the instrument's keys before analysis.
    """
    from survey.scoring import keyed_items

    rel_rows, item_rows = [], []
    wave = study.design.wave
    for use in study.instruments:
        inst = use.instrument
        for scale in inst.scales:
            if not all(i in items.columns for i in scale.items) or len(scale.items) < 2:
                continue
            for w in study.design.waves:
                sub = items.loc[items[wave] == w]
                if sub.empty:
                    continue
                keyed = keyed_items(sub, inst, scale.id).astype(float)
                r = reliability.reliability(keyed).iloc[0]
                rel_rows.append({"instrument": inst.id, "scale": scale.id, "wave": w,
                                 "n": int(r["n"]), "n_items": int(r["n_items"]),
                                 "alpha": r["alpha"], "alpha_ci_low": r["alpha_ci_low"],
                                 "alpha_ci_high": r["alpha_ci_high"],
                                 "omega_total": r["omega_total"], "alpha_std": r["alpha_std"]})
                st = reliability.item_statistics(keyed)
                st.insert(0, "wave", w)
                st.insert(0, "scale", scale.id)
                st.insert(0, "instrument", inst.id)
                item_rows.append(st)
    rel = pd.DataFrame(rel_rows, columns=["instrument", "scale", "wave", "n", "n_items", "alpha",
                                          "alpha_ci_low", "alpha_ci_high", "omega_total",
                                          "alpha_std"])
    stats = (pd.concat(item_rows, ignore_index=True) if item_rows
             else pd.DataFrame(columns=["instrument", "scale", "wave", "item", "n", "mean", "sd",
                                        "r_item_rest", "alpha_if_deleted"]))
    return rel, stats


def response_counts(study, items: pd.DataFrame, instrument_id: str, wave: str, *,
                    lang: str | None = None) -> pd.DataFrame:
    """How many chose each response, per item (for item distribution plots).

    Columns ``item, response, n``: response labels in ``lang`` (the run's language;
    default the study's) when the instrument has them, else in English, else the code.
    """
    inst = study.instrument(instrument_id)
    lang = lang or study.language
    sub = items.loc[items[study.design.wave] == wave]
    rows = []
    for item in inst.item_ids:
        if item not in sub.columns:
            continue
        counts = sub[item].value_counts(dropna=True)
        for code in range(inst.response.min, inst.response.max + 1):
            lab = inst.response.labels.get(code) or {}
            text = lab.get(lang) or lab.get("en") or str(code)
            rows.append({"item": item, "response": f"{code} {text}" if text != str(code) else text,
                         "n": int(counts.get(float(code), 0))})
    return pd.DataFrame(rows, columns=["item", "response", "n"])
