"""Write a complete study folder from a simulated study (``workbench simulate``).

A :class:`SimulationPlan` says what to simulate (design, sizes, ICCs, effects,
attrition, instruments, export shapes); :func:`write_simulated_study` runs
:func:`analysis.simulate.simulate_study` with the bundled instruments' item ids,
reverse keys and scales, and writes::

    study.yaml      design, instruments, data, missing codes, privacy.pii, outcomes, claims, seed
    data/*.csv      raw files, one per wave
    truth.json      the generating parameters and the true effects (analysis.simulate)
    README.md       what was simulated and what an analysis should find

The output is a deterministic function of the plan: the same plan and seed give
byte-identical files (no timestamps, fixed float formatting, ``\\n`` line ends
except in the platform-style GBK export, which uses ``\\r\\n`` as Excel does).

Two presets reproduce the bundled examples: ``single-school`` (the 61-student
school behind the "82% learned to communicate" claim: pre/post, no comparison
group) and ``county`` (20 schools randomized within 2 counties, three
instruments, endline exported as a GBK CSV with Chinese headers and label text,
as a Chinese survey platform would).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis.simulate import OutcomeSpec, simulate_study
from survey.errors import WorkbenchError
from survey.instrument_loader import load_instrument

__all__ = ["InstrumentPlan", "SimulationPlan", "PRESETS", "plan_from_preset",
           "write_simulated_study"]

MISSING_CODE = -9
PII_NAME_ZH = "姓名"  # the name column as a platform export heads it


@dataclass(frozen=True)
class InstrumentPlan:
    """One questionnaire of a simulated study and the outcome scored from it.

    ``effect``, ``trend`` and ``covariate_effect`` are in latent SD units in the
    *beneficial* direction (positive = better, whatever the scale's direction;
    ``covariate_effect=-0.15``: children with both parents away do worse).
    ``location`` shifts the answers in the scale's own direction (``-0.25`` on the
    loneliness scale: most children report little loneliness).
    """

    instrument: str
    scale: str
    outcome: str
    effect: float
    reliability: float = 0.8
    location: float = 0.0
    covariate_effect: float = -0.15
    trend: float = 0.0
    primary: bool = False


@dataclass(frozen=True)
class SimulationPlan:
    """Everything ``workbench simulate`` needs; see :data:`PRESETS`.

    ``attrition`` is the overall share lost by endline; with arms it is split as
    ``attrition_ratio`` (control / treatment rates), keeping the overall share.
    ``platform_endline`` writes the endline as a GBK CSV with Chinese question
    headers and label-text answers (as 问卷星 and Excel on Chinese Windows do).
    """

    study_id: str = "simulated-study"
    title: dict = field(default_factory=lambda: {"en": "Simulated study", "zh": "模拟研究"})
    language: str = "zh"
    design: str = "cluster_randomized"
    schools: int = 20
    blocks: int = 2
    classes_per_school: int | tuple = (2, 4)
    students_per_school: int | tuple = 40
    grades: tuple = (4, 6)
    icc_school: float = 0.05
    icc_class: float = 0.08
    stability: float = 0.6
    attrition: float = 0.10
    attrition_ratio: float = 13 / 7
    item_missing: float = 0.01
    boys: int | None = None
    seed: int = 20240609
    waves: tuple = ("baseline", "endline")
    arms: tuple = ("treatment", "control")
    instruments: tuple = ()
    trait_correlation: tuple | None = None
    platform_endline: bool = False
    claims: tuple = ()
    preset: str | None = None
    truth_draws: int = 200_000

    def attrition_by_arm(self) -> dict | float:
        if self.design == "pre_post":
            return self.attrition
        # overall a = (t + c) / 2 with c = ratio * t
        t = 2 * self.attrition / (1 + self.attrition_ratio)
        return {self.arms[0]: round(t, 6), self.arms[1]: round(self.attrition_ratio * t, 6)}


_THREE = (
    InstrumentPlan("pcc", "total", "communication", effect=0.3, reliability=0.82,
                   location=0.3, covariate_effect=-0.15, primary=True),
    InstrumentPlan("cls", "total", "loneliness", effect=0.15, reliability=0.88,
                   location=-0.25, covariate_effect=-0.15),
    InstrumentPlan("rses", "total", "self_esteem", effect=0.1, reliability=0.80,
                   location=0.2, covariate_effect=-0.1),
)
# correlations of the latent traits in their own (scale) directions:
# communication, loneliness (high = lonely), self-esteem
_THREE_CORR = ((1.0, -0.4, 0.4), (-0.4, 1.0, -0.5), (0.4, -0.5, 1.0))

PRESETS = {
    "single-school": SimulationPlan(
        study_id="single-school-pre-post",
        title={"en": "Care program for left-behind children in one school: pre and post survey",
               "zh": "某校留守儿童关爱项目：前后测调查"},
        design="pre_post", schools=1, blocks=1, classes_per_school=15,
        students_per_school=61, boys=31, grades=(1, 6), icc_school=0.0, icc_class=0.06,
        stability=0.6, attrition=0.0, item_missing=0.01, seed=8261, waves=("pre", "post"),
        arms=("program", "none"),
        instruments=(InstrumentPlan("pcc", "total", "communication", effect=0.0, trend=0.15,
                                    reliability=0.82, location=0.3, primary=True),),
        claims=({"id": "comm-82",
                 "text": "82% of left-behind students learned to communicate and to ask teachers "
                         "and classmates for help when in difficulty (82%的留守学生学会了沟通，"
                         "遇到困难时会向老师和同学求助)",
                 "outcome": "communication", "proportion": 0.82, "n": 61,
                 "improved": "any_increase"},),
        preset="single-school",
    ),
    "county": SimulationPlan(
        study_id="county-cluster-trial",
        title={"en": "County mentoring program for left-behind children: a cluster randomized trial",
               "zh": "县域留守儿童结对帮扶项目：整群随机对照试验"},
        design="cluster_randomized", schools=20, blocks=2, classes_per_school=(2, 4),
        students_per_school=(34, 46), grades=(4, 6), icc_school=0.05, icc_class=0.08,
        stability=0.6, attrition=0.10, attrition_ratio=13 / 7, item_missing=0.01, seed=20240609,
        instruments=_THREE, trait_correlation=_THREE_CORR, platform_endline=True,
        preset="county",
    ),
}
_GENERIC = SimulationPlan(instruments=_THREE, trait_correlation=_THREE_CORR)


def plan_from_preset(preset: str | None = None, **overrides) -> SimulationPlan:
    """A plan from a preset (or the generic plan) with some settings replaced.

    ``effect`` (if given) sets the primary outcome's effect; the others get half
    of it. ``None`` values are ignored.

    Examples
    --------
    >>> from workbench.study_writer import plan_from_preset
    >>> p = plan_from_preset("county", seed=7)
    >>> p.schools, p.blocks, p.seed, p.instruments[0].outcome
    (20, 2, 7, 'communication')
    >>> plan_from_preset(None, design="pre_post", effect=0.2).instruments[1].effect
    0.1
    """
    if preset is not None and preset not in PRESETS:
        raise WorkbenchError("SIMULATE_UNKNOWN_PRESET",
                             f"unknown preset {preset!r}; expected one of {sorted(PRESETS)}")
    plan = PRESETS[preset] if preset else _GENERIC
    ov = {k: v for k, v in overrides.items() if v is not None}
    effect = ov.pop("effect", None)
    if effect is not None:
        plan = replace(plan, instruments=tuple(
            replace(ip, effect=effect if ip.primary else effect / 2) for ip in plan.instruments))
    if "design" in ov and ov["design"] == "pre_post" and plan.design != "pre_post":
        ov.setdefault("attrition_ratio", 1.0)
    if "schools" in ov and "blocks" not in ov:
        ov["blocks"] = min(plan.blocks, max(1, ov["schools"] // 2))
    return replace(plan, **ov)


# ---------------------------------------------------------------------------


def _specs(plan: SimulationPlan):
    specs, uses = [], []
    for ip in plan.instruments:
        inst = load_instrument(ip.instrument)
        scale = inst.scale(ip.scale)
        in_scale = set(scale.items)
        sign = 1.0 if scale.better == "higher" else -1.0
        specs.append(OutcomeSpec(
            id=ip.outcome, items=inst.item_ids,
            reverse=[it.reverse for it in inst.items],
            scored=[it.id in in_scale for it in inst.items],
            response_min=inst.response.min, response_max=inst.response.max,
            reliability=ip.reliability, effect=sign * ip.effect, trend=sign * ip.trend,
            covariate_effect=sign * ip.covariate_effect, location=ip.location,
            score=scale.score, better=scale.better))
        uses.append((ip, inst, scale))
    return specs, uses


def _round_floats(obj, digits=8):
    if isinstance(obj, float):
        if math.isnan(obj):
            return None
        return float(f"{obj:.{digits}g}")
    if isinstance(obj, dict):
        return {k: _round_floats(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round_floats(v, digits) for v in obj]
    return obj


def _design_yaml(plan, sim):
    d = sim.design
    out = {"type": d.type, "id": d.id, "waves": list(d.waves)}
    if d.arm:
        out["arm"] = d.arm
        out["control"] = d.control
    if d.clusters:
        out["clusters"] = list(d.clusters)
    if d.blocks:
        out["blocks"] = d.blocks
    out["covariates"] = list(d.covariates)
    out["subgroups"] = list(d.subgroups)
    return out


def _platform_header(q: int, inst, item, k: int) -> str:
    if item.text and item.text.get("zh"):
        return f"{q}、{item.text['zh']}"
    short = (inst.name.get("zh") or inst.id).split("（")[0]
    return f"{q}、{short}第{k}题"


def _columns(sim, plan):
    cols = ["student_id"]
    if sim.design.arm:
        cols.append("arm")
    if plan.design != "pre_post" and plan.blocks > 1:
        cols.append("county_id")
    cols += ["school_id", "class_id"]
    return cols


def _write_csv(df: pd.DataFrame, path: Path, *, encoding="utf-8", lineterminator="\n"):
    text = df.to_csv(index=False, lineterminator=lineterminator)
    path.write_bytes(text.encode(encoding))


def _items_as_codes(df, items):
    out = df.copy()
    for c in items:
        out[c] = out[c].fillna(MISSING_CODE).astype("int64")
    return out


def _write_files(tmp: Path, plan: SimulationPlan, sim, uses) -> dict:
    data = sim.data
    design_cols = _columns(sim, plan)
    cov_cols = ["gender", "age", "guardian_type", "both_parents_away"]
    pii_cols = list(sim.pii)
    all_items = [i for _, inst, _ in uses for i in inst.item_ids]
    (tmp / "data").mkdir()
    b_wave, e_wave = plan.waves
    files = []
    base = data.loc[data["wave"] == b_wave, design_cols + cov_cols + pii_cols + all_items]
    b_name = f"data/{b_wave}.csv"
    _write_csv(_items_as_codes(base, all_items), tmp / b_name)
    files.append({"path": b_name, "wave": b_wave})
    items_map = {}
    endline = data.loc[data["wave"] == e_wave]
    e_name = f"data/{e_wave}.csv"
    if not plan.platform_endline:
        _write_csv(_items_as_codes(endline[design_cols + cov_cols + pii_cols + all_items], all_items),
                   tmp / e_name)
    else:
        # a survey-platform export: rows in submission order, the child's typed name,
        # question headers in Chinese, answers as label text, blanks for skipped items
        order = np.random.default_rng(plan.seed + 1).permutation(len(endline))
        e = endline.iloc[order]
        out = {c: e[c].to_numpy() for c in design_cols + cov_cols}
        out[PII_NAME_ZH] = e["name"].to_numpy()
        q = 1
        for _, inst, _ in uses:
            items_map[inst.id] = {}
            labels = {code: lab.get("zh") or lab.get("en") for code, lab in inst.response.labels.items()}
            for k, item in enumerate(inst.items, start=1):
                header = _platform_header(q, inst, item, k)
                items_map[inst.id][item.id] = header
                vals = e[item.id]
                out[header] = [labels[int(v)] if labels and not pd.isna(v) else
                               ("" if pd.isna(v) else str(int(v))) for v in vals]
                q += 1
        _write_csv(pd.DataFrame(out), tmp / e_name, encoding="gbk", lineterminator="\r\n")
    files.append({"path": e_name, "wave": e_wave})
    return {"files": files, "items_map": items_map}


def _study_yaml(plan, sim, uses, written) -> str:
    study = {
        "id": plan.study_id,
        "title": dict(plan.title),
        "language": plan.language,
        "design": _design_yaml(plan, sim),
        "instruments": [],
        "data": written["files"],
        "missing_codes": [MISSING_CODE],
        "privacy": {"pii": list(sim.pii) + ([PII_NAME_ZH] if plan.platform_endline else []),
                    "min_cell": 5},
        "outcomes": [],
    }
    for ip, inst, _scale in uses:
        entry = {"id": inst.id}
        if inst.id in written["items_map"]:
            entry["items"] = written["items_map"][inst.id]
        study["instruments"].append(entry)
        o = {"id": ip.outcome, "scale": f"{inst.id}.{ip.scale}"}
        o["better"] = inst.scale(ip.scale).better
        if ip.primary:
            o["primary"] = True
        study["outcomes"].append(o)
    if plan.claims:
        study["claims"] = [dict(c) for c in plan.claims]
    study["analysis"] = {"alpha": 0.05, "adjust": "holm", "seed": int(plan.seed)}
    study["notes"] = ("Simulated with `workbench simulate` (analysis.simulate.simulate_study); "
                      "every name, phone number and address is fake. The true effects are in "
                      "truth.json.")
    head = (f"# {plan.study_id}: a SIMULATED study with known truth (see truth.json, README.md).\n"
            f"# Re-create: workbench simulate DIR {_cli_args(plan)}\n")
    return head + yaml.safe_dump(study, allow_unicode=True, sort_keys=False, width=100,
                                 default_flow_style=None)


def _cli_args(plan: SimulationPlan) -> str:
    """The ``workbench simulate`` options that re-create ``plan``."""
    base = PRESETS[plan.preset] if plan.preset else _GENERIC
    primary = next((ip for ip in plan.instruments if ip.primary), plan.instruments[0])
    base_primary = next((ip for ip in base.instruments if ip.primary), base.instruments[0])
    opts = [f"--preset {plan.preset}"] if plan.preset else []
    for flag, name in (("--design", "design"), ("--clusters", "schools"), ("--blocks", "blocks"),
                       ("--per-cluster", "students_per_school"), ("--icc", "icc_school"),
                       ("--icc-class", "icc_class"), ("--attrition", "attrition"),
                       ("--language", "language")):
        if getattr(plan, name) != getattr(base, name):
            opts.append(f"{flag} {getattr(plan, name)}")
    if primary.effect != base_primary.effect:
        opts.append(f"--effect {primary.effect}")
    if plan.platform_endline and not base.platform_endline:
        opts.append("--platform-endline")
    opts.append(f"--seed {plan.seed}")
    if plan.truth_draws != base.truth_draws:
        opts.append(f"--truth-draws {plan.truth_draws}")
    return " ".join(opts)


def _truth_json(plan, sim, uses) -> str:
    truth = dict(sim.truth)
    outs = {}
    for ip, inst, _scale in uses:
        t = dict(truth["outcomes"][ip.outcome])
        t = {"instrument": inst.id, "scale": f"{inst.id}.{ip.scale}",
             "effect_beneficial_sd": float(ip.effect), "primary": bool(ip.primary), **t}
        outs[ip.outcome] = t
    truth["outcomes"] = outs
    truth["study_id"] = plan.study_id
    truth["plan"] = {"preset": plan.preset, "cli": _cli_args(plan),
                     "platform_endline": plan.platform_endline,
                     "missing_code": MISSING_CODE}
    truth["notes"] = [
        "effect_latent_sd: true average treatment effect on the latent trait, in the scale's own "
        "direction (negative lowers the score), in SD units of the control population.",
        "effect_scale: the same effect on the scale score (instrument.scale, as scored by the "
        "workbench, no items missing), by Monte Carlo with common random numbers; "
        "effect_scale_mc_se is its Monte Carlo standard error.",
        "trend_latent_sd: change without the program; in a pre_post design the observed change "
        "estimates trend + effect, not the effect.",
        "icc_school/icc_class are ICCs of the latent trait; observed-score ICCs are smaller "
        "(about ICC x reliability).",
        "share_*_treated: expected share of treated students who look improved between waves "
        "(any increase; reliable change index > 1.96 using alpha_expected).",
        "Personal data (names, pinyin, phones 170-0xxx-xxxx/171-0xxx-xxxx, addresses, guardian "
        "names) are fake and unique per student.",
    ]
    truth = _round_floats(truth)
    return json.dumps(truth, ensure_ascii=False, indent=2) + "\n"


def _fmt(x, d=3):
    return f"{x:.{d}f}"


def _readme(plan, sim, uses) -> str:
    t = sim.truth
    lines = [f"# {plan.title.get('en')}", "", f"{plan.title.get('zh')}", "",
             "**Simulated data with known truth** (made by `workbench simulate`; nothing here is "
             "about real children: every name, phone number and address is fake).", "",
             "Re-create it byte for byte:", "", "```", f"workbench simulate DIR {_cli_args(plan)}",
             "```", "", "## Design", ""]
    dz = t["design"]
    lines.append(f"- `{dz['type']}`: {dz['schools']} school(s), {dz['classes']} classes, "
                 f"{dz['students']} students; randomization: {dz['randomization']}.")
    for arm, info in dz["by_arm"].items():
        lines.append(f"- {arm}: {info['students']} students in {info['schools']} school(s), "
                     f"{info['followed_up']} at {plan.waves[1]} (attrition "
                     f"{_fmt(info['attrition_observed'], 3)}; target {info['attrition_target']}).")
    p = t["parameters"]
    lines.append(f"- Latent ICCs: school {p['icc_school']}, class {p['icc_class']}; "
                 f"baseline-endline stability {p['stability']}; item non-response "
                 f"{p['item_missing']} (coded {MISSING_CODE}"
                 + (", blank in the platform export" if plan.platform_endline else "") + ").")
    lines += ["", "## True effects (from truth.json)", "",
              "| outcome | scale | better | effect (latent SD) | effect (scale units) | MC SE | "
              "alpha (expected) |", "|---|---|---|---|---|---|---|"]
    for ip, inst, scale in uses:
        o = t["outcomes"][ip.outcome]
        lines.append(f"| {ip.outcome}{' (primary)' if ip.primary else ''} | `{inst.id}.{ip.scale}` "
                     f"| {scale.better} | {o['effect_latent_sd']:+.2f} | "
                     f"{o['effect_scale']:+.4f} | {o['effect_scale_mc_se']:.4f} | "
                     f"{_fmt(o['alpha_expected'])} |")
    lines.append("")
    if plan.design == "pre_post":
        o = t["outcomes"][plan.instruments[0].outcome]
        lines += ["## What a pre/post design can and cannot show", "",
                  f"The program's true effect is **{o['effect_latent_sd']:+.2f} SD**, but scores "
                  f"drift by {o['trend_latent_sd']:+.2f} SD between waves without any program "
                  "(maturation, getting used to the questionnaire). With no comparison group the "
                  f"observed change (expected {o['change_scale_treated']:+.3f} scale points) "
                  "cannot be told apart from the program's effect.",
                  "",
                  f"Under this model the share of students whose score rises at all is "
                  f"{_fmt(o['share_any_improvement_treated'], 2)}, and the share with a reliable "
                  f"improvement is {_fmt(o['share_reliable_improvement_treated'], 2)}, although "
                  "the program does nothing.", ""]
        for c in plan.claims:
            lines += [f"Claim `{c['id']}`: \"{c['text']}\" (claimed proportion {c['proportion']}, "
                      f"n = {c['n']}). `improved: {c['improved']}` is the most generous reading "
                      "of the report, which names no instrument and no criterion: any increase "
                      "of the score counts.", ""]
    lines += ["## Files", "",
              "- `study.yaml`: the study (design, instruments, data, privacy, outcomes"
              + (", claims" if plan.claims else "") + ").",
              f"- `data/{plan.waves[0]}.csv`: UTF-8, English column names, item codes, with the "
              "students' personal data (declared in `privacy.pii`).",
              ]
    if plan.platform_endline:
        lines.append(f"- `data/{plan.waves[1]}.csv`: **GBK** CSV (CRLF) as a Chinese survey "
                     "platform exports it: Chinese question headers (mapped to item ids by "
                     "`instruments[].items`), answers as label text (非常同意 ...), blank for "
                     "skipped questions, the typed name (姓名), rows in submission order. Its "
                     "encoding is not declared, so detection is exercised.")
    else:
        lines.append(f"- `data/{plan.waves[1]}.csv`: the same layout at {plan.waves[1]}.")
    lines += ["- `truth.json`: the generating parameters and the true effects.", ""]
    return "\n".join(lines)


def write_simulated_study(folder, plan: SimulationPlan, *, force: bool = False):
    """Simulate ``plan`` and write a complete study folder.

    Parameters
    ----------
    folder : path
        Target folder. It must not exist or be empty unless ``force``; with
        ``force`` the generated files replace their old versions and other files
        are left alone.
    plan : SimulationPlan
    force : bool

    Returns
    -------
    analysis.simulate.SimulatedStudy
        The simulated data (with the raw personal data) and the truth.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from workbench.study_writer import plan_from_preset, write_simulated_study
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "s"
    >>> sim = write_simulated_study(d, plan_from_preset("single-school", truth_draws=20_000))
    >>> sorted(p.name for p in d.iterdir())
    ['README.md', 'data', 'study.yaml', 'truth.json']
    """
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()) and not force:
        raise WorkbenchError("SIMULATE_FOLDER_EXISTS",
                             "folder exists and is not empty; use --force to overwrite the "
                             "generated files", file=str(folder))
    if not plan.instruments:
        raise WorkbenchError("SIMULATE_NO_INSTRUMENTS", "the plan names no instruments")
    specs, uses = _specs(plan)
    try:
        sim = simulate_study(
            specs, design=plan.design, schools=plan.schools, blocks=plan.blocks,
            classes_per_school=plan.classes_per_school,
            students_per_school=plan.students_per_school, grades=plan.grades,
            icc_school=plan.icc_school, icc_class=plan.icc_class, stability=plan.stability,
            attrition=plan.attrition_by_arm(), item_missing=plan.item_missing, boys=plan.boys,
            trait_correlation=plan.trait_correlation, waves=plan.waves, arms=plan.arms,
            seed=plan.seed, truth_draws=plan.truth_draws)
    except ValueError as err:
        raise WorkbenchError("SIMULATE_BAD_PARAMETERS", str(err)) from None
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".simulate-", dir=folder.parent))
    try:
        written = _write_files(tmp, plan, sim, uses)
        (tmp / "study.yaml").write_bytes(_study_yaml(plan, sim, uses, written).encode("utf-8"))
        (tmp / "truth.json").write_bytes(_truth_json(plan, sim, uses).encode("utf-8"))
        (tmp / "README.md").write_bytes(_readme(plan, sim, uses).encode("utf-8"))
        folder.mkdir(parents=True, exist_ok=True)
        for src in sorted(tmp.rglob("*")):
            if src.is_file():
                dst = folder / src.relative_to(tmp)
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return sim
