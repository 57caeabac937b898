"""``workbench init DIR``: a study folder to fill in.

Writes a commented ``study.yaml`` (every key explained, in English and Chinese)
that loads as it is, ``data/README.md``, ``instruments/README.md`` (how to write
an instrument or item-text file) and a ``.gitignore`` that keeps the
pseudonymization key and the outputs out of version control. An existing
``study.yaml`` is never overwritten.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import WorkbenchError

STUDY_TEMPLATE = """\
# study.yaml: describes one evaluation study. / 研究描述文件：描述一项评估研究。
# Every path below is relative to this folder and may not leave it.
# 下面所有路径都相对于本文件夹，且不能指向文件夹之外。
# Full reference / 完整说明: data-schema/README.md in Survey Workbench.
# Check it with / 检查：  workbench validate {folder}

# Short ASCII id (letters, digits, . _ -). / 研究编号（英文字母、数字、. _ -）。
id: {study_id}

# Title in English and Chinese (or one string). / 中英文标题（或一个字符串）。
title:
  en: My program evaluation
  zh: 我的项目评估

# Language of labels in figures and reports: zh | en. / 图表和报告的语言。
language: zh

design:
  # cross_sectional | pre_post | controlled | randomized | cluster_randomized
  # 横断面 | 前后测 | 有对照组 | 随机对照 | 整群随机
  type: cluster_randomized
  # Respondent id column (required). / 被试编号列（必填）。
  id: student_id
  # Wave column: omit when each data file below names its wave. / 测量波次列：若每个数据文件已注明波次则省略。
  # wave: wave
  # Waves in time order, first = baseline. Default: the data[].wave values in order.
  # 波次的时间顺序，第一个为基线。默认取下方 data[].wave 的顺序。
  waves: [baseline, endline]
  # Arm (group) column and the label of the comparison arm. / 分组列及对照组的取值。
  arm: arm
  control: control
  # Every arm label in the data (the control label is added). A row with another label is
  # an error and quarantined; without this list a rare label that looks like a typo of
  # another (treatmnet) is only a warning.
  # 数据中所有分组取值（自动包含对照组）。列出后，其他取值（如拼错的 treatmnet）为错误，该行被隔离；
  # 不列出时，只对人数很少、且像其他组拼写错误的取值给出警告。
  # arms: [control, treatment]
  # Cluster columns, outermost first (required for cluster_randomized). / 整群列，由外到内。
  clusters: [school_id]
  # Randomization blocks (optional). / 随机化区组（可选）。
  # blocks: county_id
  # Baseline covariates for adjustment. / 用于调整的基线协变量。
  covariates: [gender, age]
  # Subgroups for moderator analyses. / 亚组分析的分组变量。
  subgroups: [gender]

# Instruments: a bundled one by id (list: `workbench instruments`) or your own file by path.
# 量表：按编号使用内置量表（`workbench instruments` 查看），或用 path 指向自己的量表文件（YAML 或 XLSForm）。
instruments:
  - id: rses
    # Keys-only instruments ship without item wording; add yours from a licensed copy:
    # 仅含计分键的量表不附条目原文；可从已获授权的版本添加：
    # text: instruments/rses-text.yaml
  # - path: instruments/my-scale.yaml        # or instruments/my-scale.xlsx (XLSForm)
  #   items: {{myscale_1: Q12, myscale_2: Q13}}   # item id -> data column, when they differ / 条目编号 -> 数据列名

# Raw data files (CSV, XLSX, SAV, DTA; 问卷星 exports are recognized).
# 原始数据文件（CSV、XLSX、SAV、DTA；可识别问卷星导出）。
data:
  - path: data/baseline.csv
    wave: baseline
  - path: data/endline.csv
    wave: endline
    # sheet: Sheet1        # Excel sheet / 工作表
    # encoding: gbk        # detected when omitted / 省略时自动识别
    # platform: wenjuanxing
    # What the numbers in item columns are: option_index (the option's position 1, 2, 3...,
    # as 问卷星's 按序号 export writes them) or value (the instrument's own codes).
    # 条目列中的数字：option_index（选项序号，问卷星“按序号”导出）或 value（量表本身的代码）。
    # codes: option_index

# Codes meaning "missing" in item columns, outcome columns and covariates.
# 表示缺失的代码（适用于条目、结局列和协变量）。
missing_codes: [-9, 99]

# How covariate, subgroup and outcome columns are read (optional): numeric or categorical,
# and for numbers a plausible range; a value outside it is an error naming its cell.
# Default: outcome columns numeric, subgroups categorical, covariates numeric when most
# of their cells are numbers.
# 协变量、亚组和结局列的读取方式（可选）：numeric（数值）或 categorical（类别）；数值列可给出
# 合理范围，超出范围的值报错并指出单元格。默认：结局列为数值，亚组为类别，协变量多数为数字时为数值。
# columns:
#   age: {{type: numeric, min: 5, max: 20}}
#   gender: {{type: categorical}}

# Labels shown on the pages for the values and columns the study defines (optional); tables/*.csv
# keep the raw values. A mapping needs both languages; one text is the same in both.
# 报告中显示的标签（可选）：组别、测量轮次、类别取值和列名；tables/*.csv 保留原始取值。
# labels:
#   values:
#     arm: {{treatment: {{en: Mentoring, zh: 结对帮扶}}, control: {{en: Comparison, zh: 对照组}}}}
#     wave: {{baseline: {{en: Baseline, zh: 基线}}, endline: {{en: Endline, zh: 终期}}}}
#   columns:
#     age: {{en: Age (years), zh: 年龄（岁）}}

privacy:
  # Personal-data columns: dropped when data are read, and searched for in every output.
  # 个人信息列：读取时删除，并在所有输出中检查是否泄露。
  pii: [name, phone, address]
  # Columns whose header looks like personal data but which are not (e.g. the number of
  # phone calls); other such headers stop the analysis until they are listed here or in pii.
  # 列名像个人信息但实际不是的列（如“电话次数”）；其他此类列需列入此处或 pii，否则不进行分析。
  # not_pii: [电话次数]
  # Groups smaller than this are suppressed in published tables. / 小于此人数的组在表格中隐藏。
  min_cell: 5

# Outcomes: a scale (INSTRUMENT.SCALE) or a numeric data column. The first is primary
# unless one says primary: true. / 结局指标：量表分（量表.分量表）或数值列；未标明 primary 时第一个为主要结局。
outcomes:
  - id: self_esteem
    scale: rses.total
    better: higher         # higher | lower / 越高越好 | 越低越好
    primary: true
  # - id: math
  #   column: math_score
  #   better: higher

# Claims from program reports to audit, e.g. "82% of 61 children improved".
# 需要核查的项目报告结论，例如“61名儿童中82%有改善”。
claims: []
# claims:
#   - id: esteem-82
#     text: 82% of children gained self-esteem
#     outcome: self_esteem
#     proportion: 0.82
#     n: 61
#     improved: reliable_change   # reliable_change | any_increase

# ---- Program delivery (optional) / 项目实施情况（可选） ----
# Child archives: tables joined to the survey data by the child id (design.id, here student_id).
# Roster columns (arm, school, covariates) serve every wave, so the survey files need not repeat
# them; a value that differs between a survey file and the roster is an error. Personal columns
# follow privacy.pii (dropped when read); guardian and mentor ids are pseudonymized like child ids.
# 儿童档案：按儿童编号（design.id，此处为 student_id）与问卷数据关联的表格。花名册中的列（分组、学校、
# 协变量）适用于每一轮，问卷文件无需重复；问卷文件与花名册不一致时报错。个人信息列按 privacy.pii
# 在读取时删除；监护人和导师编号与儿童编号一样做假名化处理。
# archives:
#   roster: {{path: data/roster.csv}}         # one row per child / 每名儿童一行：student_id, arm, school_id, gender, age
#   guardians: {{path: data/guardians.csv}}   # student_id, guardian_id, relation, from, to (empty to = current / to 为空表示现任监护人)
#   parents: {{path: data/parents.csv}}       # student_id, parent (father|mother / 父亲|母亲), migrant (0/1 外出务工), call_frequency
#   mentors: {{path: data/mentors.csv}}       # mentor_id, student_id, from, to: mentor assignments / 结对帮扶期间（不得重叠）
#     # columns: {{mentor_id: 导师编号, from: 开始日期}} maps a standard name to your header / 标准列名 -> 文件中的列名
# Contact log: one row per contact (a visit, a call, a letter), CSV (UTF-8 or GBK), XLSX or a 问卷星
# export. Dates like 2024-03-05, 2024/3/5 or 2024年3月5日 (never 05/03/2024: day or month first?).
# Activities: home_visit, phone_call, letter, video_call, counselling, home_attendance (家访, 电话,
# 书信, 视频, 心理辅导, 留守儿童之家 are read too) or a type of your own (protocol.activity_types).
# 活动记录：每次帮扶一行（家访、电话、书信……），可为 CSV（UTF-8 或 GBK）、XLSX 或问卷星导出。
# 日期写作 2024-03-05、2024/3/5 或 2024年3月5日（不接受 05/03/2024 这类日月顺序不明的写法）。
# 无法解析的日期、协议期外或未来的日期、未知的活动类型都会报错并隔离该行。
# contacts:
#   - path: data/contacts.csv    # student_id, date, activity, mentor_id, trigger (optional / 可选), duration_min (optional / 可选)
#     columns: {{date: 日期, activity: 活动类型}}
# The protocol: what each child of the program arms should receive (needs contacts). No visit is
# expected outside the terms (the summer break) or on holidays.
# 帮扶方案：项目组每名儿童应得到的帮扶（需要 contacts）。学期之外（暑假）和节假日不要求帮扶。
# protocol:
#   start: 2024-03-01              # first and last day of delivery / 实施起止日期
#   end: 2025-01-15
#   terms: [{{name: spring, from: 2024-03-01, to: 2024-07-10}}, {{name: autumn, from: 2024-09-01, to: 2025-01-15}}]
#   holidays: [{{name: 五一, from: 2024-05-01, to: 2024-05-05}}]
#   activities:                    # 三个一: a visit and a call each month, a letter each term / 每月一次家访、一次电话，每学期一封信
#     home_visit: {{per: month, min: 1}}    # per: week | month | term (= semester 学期) | study
#     phone_call: {{per: month, min: 1}}
#     letter: {{per: semester, min: 1}}
#   triggers:                      # 五必访: a visit within N days of an event / 事件发生后 N 天内家访
#     mood: {{activity: home_visit, within_days: 3}}      # mood, illness, grades, lateness, conflict
#   max_children_per_mentor: 3     # mentor load limit / 每名导师最多结对儿童数
#   arms: [treatment]              # arms that receive the program; default every arm but control / 接受项目的组别
#   received_share: 0.8            # share of the protocol met to count as "received" / 达到方案的比例阈值
#   activity_types: [parent_school]   # your own activity types / 自定义活动类型

analysis:
  alpha: 0.05              # significance level / 显著性水平
  adjust: holm             # holm | bh | none: multiple-outcome adjustment / 多重比较校正
  seed: 20240609           # random seed / 随机种子
"""

DATA_README = """\
# data/

Put the raw data files named in `../study.yaml` (`data:`) here.
将 `../study.yaml` 中 `data:` 列出的原始数据文件放在这里。

- One row per respondent (and wave). The id column is the one `design.id` names; arm,
  cluster, covariate and subgroup columns as `design:` names them.
  每行一名被试（一个波次）；编号、分组、整群、协变量列名与 `design:` 中一致。
- Item columns are named by item id (`rses_1`, ...) unless `instruments[].items` maps them.
  条目列以条目编号命名，或在 `instruments[].items` 中对应。
- CSV in UTF-8 or GBK (detected), Excel `.xlsx`, SPSS `.sav`, Stata `.dta`; 问卷星 exports
  (按文本 or 按序号) as downloaded.
- These files hold personal data: they are never copied into outputs, and should not be
  committed to a shared repository. 这些文件含个人信息，不要提交到共享仓库。
"""

INSTRUMENTS_README = """\
# instruments/

Your own instruments, and item text for keys-only bundled instruments.
自己的量表文件，以及内置"仅计分键"量表的条目原文文件。

## An instrument file (YAML) / 量表文件

```yaml
id: myscale                     # lower-case ASCII id / 小写英文编号
name: {en: My scale, zh: 我的量表}
version: "1"
construct: what it measures
citation: Author (year). Title.
license: {kind: original, terms: "Who holds the rights; what is allowed."}   # full_text | keys_only | original
response:
  min: 1
  max: 4
  labels: {1: {en: Never, zh: 从不}, 4: {en: Always, zh: 总是}}
items:
  - {id: myscale_1, text: {en: "...", zh: "..."}}
  - {id: myscale_2, text: {en: "...", zh: "..."}, reverse: true}    # scored as min + max - x
scales:
  - id: total                   # scored column: myscale.total
    name: {en: Total, zh: 总分}
    items: [myscale_1, myscale_2]
    score: mean                 # mean | sum
    min_items: 2                # score exists when at least this many items are answered
    better: higher
```

Use it in `study.yaml`: `instruments: [{path: instruments/myscale.yaml}]`. An XLSForm
(`.xlsx` with `survey`, `choices`, `settings` and optional `scales` sheets) works too.
Check how it is read: `workbench instruments show instruments/myscale.yaml`.

## An item-text file / 条目原文文件

Bundled keys-only instruments (`workbench instruments` says "keys only") carry ids,
reverse keys and scales but not the wording, which may not be redistributed. Copy the
wording from your licensed copy:

```yaml
instrument: rses
source: "Where the wording comes from (your licensed copy, translation)"
items:
  rses_1: {en: "...", zh: "..."}
  rses_2: {en: "...", zh: "..."}
```

and name it in `study.yaml`: `instruments: [{id: rses, text: instruments/rses-text.yaml}]`.
Scoring works without it; the text is used in codebooks and reports.
Full reference: `data-schema/README.md` in Survey Workbench.
"""

GITIGNORE = """\
# pseudonymization key: never share it / 假名化密钥，切勿外传
.workbench-key
# outputs are regenerated by `workbench run` / 输出由 workbench run 重新生成
output/
"""


def init_study(folder) -> Path:
    """Create a study folder to fill in; returns the path of its ``study.yaml``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = init_study(pathlib.Path(tempfile.mkdtemp()) / "my-study")
    >>> sorted(x.name for x in p.parent.iterdir())
    ['.gitignore', 'data', 'instruments', 'study.yaml']
    """
    import re

    folder = Path(folder)
    study = folder / "study.yaml"
    if study.exists() or (folder / "study.yml").exists():
        raise WorkbenchError("STUDY_EXISTS", "a study.yaml already exists here; it is not overwritten "
                             "(edit it, or choose another folder)", file=str(study))
    if folder.exists() and not folder.is_dir():
        raise WorkbenchError("STUDY_EXISTS", "exists and is not a folder", file=str(folder))
    study_id = re.sub(r"[^A-Za-z0-9_.-]+", "-", folder.resolve().name).strip("-.") or "my-study"
    if not re.match(r"^[A-Za-z0-9]", study_id):
        study_id = "study-" + study_id
    try:
        (folder / "data").mkdir(parents=True, exist_ok=True)
        (folder / "instruments").mkdir(exist_ok=True)
        with open(study, "x", encoding="utf-8") as fh:
            fh.write(STUDY_TEMPLATE.format(study_id=study_id, folder=folder.as_posix()))
        for rel, text in (("data/README.md", DATA_README), ("instruments/README.md", INSTRUMENTS_README),
                          (".gitignore", GITIGNORE)):
            target = folder / rel
            if not target.exists():
                target.write_text(text, encoding="utf-8")
    except OSError as err:
        raise WorkbenchError("STUDY_INIT_FAILED", f"cannot create the study folder ({err.strerror or err})",
                             file=str(folder)) from None
    return study


def main(args) -> int:
    study = init_study(args.folder)
    print(f"created {study}")
    print("next: put your data files in data/, edit study.yaml, then run "
          f"`workbench validate {Path(args.folder).as_posix()}`")
    return 0
