"""``workbench``: the command-line program.

Each subcommand lives in ``workbench/commands/<name>.py`` as ``main(args) -> int``
and is imported only when used, so ``workbench --help`` stays fast. Errors a user
can cause (:class:`core.errors.WorkbenchError`) are printed as one readable
message per problem, never as a traceback, with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys


def _add_study(p):
    p.add_argument("study", help="study folder or its study.yaml")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Survey Workbench: from survey exports to tested program effects.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("instruments", help="list bundled instruments, or show one")
    p.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    p.add_argument("instrument_id", nargs="?", help="instrument id (with 'show')")
    p.add_argument("--lang", choices=["zh", "en"], default=None, help="only this language")

    p = sub.add_parser("validate", help="validate a study's data; write report.json and quarantine.csv")
    _add_study(p)
    p.add_argument("--out", help="folder for report.json and quarantine.csv (default STUDY/output/validation)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = sub.add_parser("score", help="validate and score a study; write scores.parquet/.csv/.sav")
    _add_study(p)
    p.add_argument("--out", required=True, help="output folder")

    p = sub.add_parser("scan", help="search an output folder for personal data and raw ids")
    p.add_argument("folder", help="output folder to scan")
    p.add_argument("--study", help="study whose raw personal values to look for "
                   "(default: the one named in FOLDER/manifest.json)")

    p = sub.add_parser(
        "publish", help="copy a run's tables, figures and reports (no child-level data) to share",
        description="Write FOLDER with the run's tables/, figures/, reports/, status/ and a "
                    "manifest listing them; data/ (child-level scores), validation/ and "
                    "notebooks/ stay behind. The copy is scanned for personal data before it is "
                    "moved into place; a finding publishes nothing.")
    p.add_argument("run", help="output folder of `workbench run`")
    p.add_argument("folder", help="folder to write (new, empty, or an earlier publish)")
    p.add_argument("--study", help="study whose raw personal values the scan looks for "
                   "(default: the one named in RUN/manifest.json)")

    p = sub.add_parser("run", help="validate, score, run the notebooks and write reports")
    _add_study(p)
    p.add_argument("--out", help="output folder (default STUDY/output)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="run only these notebooks (e.g. 03_effects)")
    p.add_argument("-p", "--parameter", action="append", default=[], metavar="KEY=VALUE",
                   help="notebook parameter, checked against the notebooks' declared types")
    p.add_argument("--jobs", type=int, default=None, help="notebooks run at once (default: cores)")
    p.add_argument("--report-mode", action="store_true", help="HTML reports without code")
    p.add_argument("--seed", type=int, default=None, help="override analysis.seed")
    p.add_argument("--no-progress", action="store_true", help="no progress display")
    p.add_argument("--strict", action="store_true",
                   help="exit code 1 when validation found errors (rows were quarantined)")

    p = sub.add_parser("init", help="create a study folder to fill in")
    p.add_argument("folder")

    p = sub.add_parser(
        "simulate", help="simulate a complete study folder with known truth",
        description="Write study.yaml, raw data files, truth.json and README.md of a simulated "
                    "study. Without --preset the generic plan: a cluster randomized trial of 20 "
                    "schools in 2 counties, baseline and endline, instruments pcc (primary), cls "
                    "and rses. The files name the options that re-create them byte for byte.")
    p.add_argument("folder")
    # defaults are None so that a --preset can fill them; the help shows the generic defaults
    p.add_argument("--preset", choices=["single-school", "county", "two-school"], default=None,
                   help="the settings of a bundled example (other options override them)")
    p.add_argument("--design", default=None,
                   choices=["cross_sectional", "pre_post", "controlled", "randomized",
                            "cluster_randomized"],
                   help="default cluster_randomized; controlled: groups of schools chosen, not "
                        "randomized, starting --baseline-difference apart; cross_sectional: one "
                        "wave")
    p.add_argument("--waves", type=int, choices=[1, 2, 3], default=None,
                   help="number of waves (default 2; 1 for cross_sectional)")
    p.add_argument("--arms", type=int, choices=[0, 2, 3], default=None,
                   help="arms including the control (default 2; 0: a survey without groups, "
                        "cross_sectional only; ignored by pre_post)")
    p.add_argument("--clusters", type=int, default=None, help="schools (default 20)")
    p.add_argument("--blocks", type=int, default=None,
                   help="counties, randomization blocks (default 2, at most schools / arms)")
    p.add_argument("--per-cluster", type=int, default=None, help="students per school (default 40)")
    p.add_argument("--classes", type=int, default=None,
                   help="classes per school (default 2 to 4 at random)")
    p.add_argument("--cluster-levels", type=int, choices=[0, 1, 2], default=None,
                   help="cluster columns declared: 0 none, 1 school (class in a one-school "
                        "study and for randomized, whose schools are blocks), 2 school and class "
                        "(default: class for randomized, else both)")
    p.add_argument("--icc", type=float, default=None, help="school-level ICC (default 0.05)")
    p.add_argument("--icc-class", type=float, default=None, help="class-level ICC (default 0.08)")
    p.add_argument("--instruments", nargs="+", default=None, metavar="ID",
                   help="bundled instruments answered, their total scales outcomes (default pcc "
                        "cls rses; 'none' for none)")
    p.add_argument("--columns", nargs="+", default=None, metavar="COLUMN",
                   help="numeric data-column outcomes: math_score, reading_score, "
                        "attendance_days, absent_days (default none)")
    p.add_argument("--outcomes", choices=["all", "columns"], default=None,
                   help="columns: the questionnaires are answered but only the data columns are "
                        "outcomes (default all)")
    p.add_argument("--primary", default=None, metavar="OUTCOME",
                   help="primary outcome id (default: the preset's, or the first outcome of "
                        "--instruments/--columns; generic: communication)")
    p.add_argument("--effect", type=float, default=None,
                   help="true effect on the primary outcome in latent SD, beneficial direction "
                        "(negative: harm); the other outcomes, in order, get effect/2, "
                        "effect/3, ... (default 0.3: loneliness 0.15, self-esteem 0.1)")
    p.add_argument("--trend", type=float, default=None,
                   help="change of the primary outcome without the program, latent SD, "
                        "beneficial direction (default 0)")
    p.add_argument("--baseline-difference", type=float, default=None,
                   help="how much better off (latent SD) the program's groups are before the "
                        "program (default -0.3 for controlled, else 0)")
    p.add_argument("--attrition", type=float, default=None,
                   help="share lost by endline (default 0.10; 0 with one wave)")
    p.add_argument("--attrition-ratio", type=float, default=None,
                   help="control / treatment attrition rate (default 13/7: higher in control; "
                        "1: balanced)")
    p.add_argument("--attrition-mechanism", choices=["mcar", "mar", "mnar"], default=None,
                   help="who leaves, each arm keeping its rate: mcar at random (default); mar "
                        "children who start worse on the primary outcome (baseline score); mnar "
                        "children who got worse than their baseline predicts (unseen); "
                        "truth.json records the coefficients and, for mnar, the true delta")
    p.add_argument("--attrition-strength", type=float, default=None,
                   help="log-odds of leaving per SD of the baseline score (mar) or of the "
                        "unseen change (mnar) (default 1)")
    p.add_argument("--item-missing", type=float, default=None,
                   help="share of answers left blank at random (default 0.01)")
    p.add_argument("--incomplete", type=float, default=None,
                   help="share of respondents answering only the first half of every "
                        "questionnaire, more blanks than min_items allows (default 0)")
    p.add_argument("--id-style", choices=["code", "num5", "num8", "padded", "chinese"],
                   default=None, help="student ids: LB-0103-0027 (code, default), 11027 (num5), "
                                      "20020027 (num8), 007 (padded), 青山三小027 (chinese)")
    p.add_argument("--platform-endline", action="store_true", default=None,
                   help="write the endline as a GBK CSV with Chinese headers and label text")
    p.add_argument("--seed", type=int, default=None, help="default 20240609")
    p.add_argument("--language", choices=["zh", "en"], default=None, help="default zh")
    p.add_argument("--truth-draws", type=int, default=None,
                   help="Monte Carlo draws per arm for the true effect in scale units "
                        "(default 200000)")
    p.add_argument("--delivery", choices=["none", "log", "archives", "roster"], default=None,
                   help="program delivery with known truth: log (a contact log and the "
                        "protocol), archives (also roster, guardians, parents, mentors), roster "
                        "(archives, covariates only in the roster); default none (county: "
                        "archives)")
    p.add_argument("--force", action="store_true", help="overwrite an existing folder")

    p = sub.add_parser("power", help="power, sample size or MDES",
                       description="Give all but one of --effect, the size (--n, or --clusters "
                                   "for cluster designs) and --power; the missing one is solved for.")
    p.add_argument("--design", default="cluster2",
                   choices=["two_sample", "paired", "one_sample", "proportions", "one_proportion",
                            "cluster2", "cluster3"])
    p.add_argument("--effect", type=float, help="standardized effect: Cohen's d, or h for "
                   "proportions (omit to solve for it)")
    p.add_argument("--n", type=float, help="per group (t tests, proportions), per cluster "
                   "(cluster2), per class (cluster3)")
    p.add_argument("--clusters", type=float, help="clusters J (cluster2) or schools K (cluster3)")
    p.add_argument("--per-middle", type=float, help="classes per school (cluster3)")
    p.add_argument("--icc", type=float, default=0.05, help="ICC at the top level")
    p.add_argument("--icc2", type=float, default=0.0, help="ICC at the middle level (cluster3)")
    p.add_argument("--r2-1", type=float, default=0.0, help="covariate R2 at level 1")
    p.add_argument("--r2-2", type=float, default=0.0, help="covariate R2 at level 2")
    p.add_argument("--r2-3", type=float, default=0.0, help="covariate R2 at level 3")
    p.add_argument("--covariates", type=int, default=0,
                   help="covariates at the randomized level (each costs one df; cluster designs)")
    p.add_argument("--p1", type=float, help="proportion in group 1 (proportions; instead of --effect)")
    p.add_argument("--p2", type=float, help="proportion in group 2, or the null proportion "
                   "(one_proportion)")
    p.add_argument("--treated", type=float, default=0.5, help="share of clusters treated")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--power", type=float, default=None,
                   help="target power (omit to compute power; 0.8 when solving for effect or size)")
    p.add_argument("--alternative", choices=["two-sided", "greater", "less"], default="two-sided",
                   help="t tests and proportions")
    p.add_argument("--simulate", type=int, default=0, metavar="N",
                   help="cluster2: also estimate power from N simulated trials (OLS + CR2)")
    p.add_argument("--seed", type=int, default=20240609, help="seed for --simulate")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("claim", help="audit a claim such as '82%% of 61 students improved'")
    p.add_argument("--proportion", type=float, required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--reliability", type=float, default=0.8)
    p.add_argument("--improved", choices=["reliable_change", "any_increase"], default="any_increase")
    p.add_argument("--selected-below", type=float, default=None, metavar="PERCENTILE",
                   help="children were enrolled for a baseline below this percentile")
    p.add_argument("--levels", type=int, default=None,
                   help="possible scores of a short scale (ties; simulated no-effect share)")
    p.add_argument("--baseline", action="store_true", help="the children were measured before")
    p.add_argument("--schools", type=int, default=None, help="schools the claim comes from")
    p.add_argument("--text", default=None, help="the claim's wording")
    p.add_argument("--observed", type=int, nargs=2, default=None, metavar=("X", "N"),
                   help="the study's own data: X of N children of the program group improved "
                        "(compared with the claim, with a Wilson interval)")
    p.add_argument("--icc", type=float, default=None,
                   help="ICC of the clusters, to plan a cluster trial (with --cluster-size)")
    p.add_argument("--cluster-size", type=float, default=None,
                   help="children per cluster, to plan a cluster trial (with --icc)")
    p.add_argument("--cluster-name", default=None,
                   help="what the clusters are, plural, in the plan's wording (e.g. schools)")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--power", type=float, default=0.8)
    p.add_argument("--lang", choices=["zh", "en"], default="en")
    p.add_argument("--json", action="store_true")
    return parser


INLINE_ENV = {"PYTHONHASHSEED": "0", "WORKBENCH_INLINE_LANE": "1",
              "MPLBACKEND": "module://matplotlib_inline.backend_inline",
              "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "VECLIB_MAXIMUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1"}
"""What ``workbench run`` sets for itself before anything is imported, so that it can run
notebooks in its own process as one of the lanes (:class:`workbench.execute.NotebookPool`)
exactly as a lane process does: a fixed hash seed (set and dict orders of strings as in
every lane), one BLAS thread (the same floating-point sums at any ``--jobs``) and the
inline figure backend. Python reads the hash seed only at start, so the command re-executes
itself once with these set (a few milliseconds)."""


def _reexec_for_inline_lane(argv) -> None:
    import os
    import subprocess

    if argv is not None or os.environ.get("WORKBENCH_INLINE_LANE") is not None:
        return  # called from Python (tests, a notebook), or already set (or switched off: 0)
    if os.environ.get("WORKBENCH_ENGINE", "inprocess") != "inprocess":
        return
    os.environ.update(INLINE_ENV)
    sys.stdout.flush()
    sys.stderr.flush()
    # the interpreter's own flags (-X dev, -W error, -O, ...) are kept; -P keeps the
    # working directory off sys.path, as the console script does (a study folder's own
    # core.py or analysis.py must not replace our packages)
    flags = subprocess._args_from_interpreter_flags()
    os.execv(sys.executable, [sys.executable, *flags, "-P", "-m", "workbench", *sys.argv[1:]])


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        _reexec_for_inline_lane(argv)
    from core.errors import WorkbenchError

    module = importlib.import_module(f"workbench.commands.{args.command}")
    try:
        return int(module.main(args) or 0)
    except WorkbenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `workbench ... | head`: the reader left; not an error of ours
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
