"""How well the rule judges agree with people: accuracy per judge per label family, against a baseline.

Runs refusal-keywords (the baseline, measured in the same run), refusal-rules v1 and v2,
xstest-strmatch (XSTest's published string match) and harm-rules on the project's own labelled
answers in benchmarks/judge_labels/ (written by the project; harmful compliances are
non-actionable placeholders), through mmwatch.analysis.calibration, as `mmwatch calibrate` does.
Model judges are left out; harm-rules is measured on harm labels only. `dev` files are what the rules were written against; `holdout` files
were written before harm-rules existed and are not tuned on: read both.

Exits non-zero unless, on every split, refusal-rules v2 >= xstest-strmatch on refusal labels and
harm-rules > refusal-keywords on harm labels.

    python benchmarks/judge_accuracy.py [--labels DIR]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from mmwatch import plugins
from mmwatch.analysis.calibration import CalibrationReport, accuracy_ratio, calibrate
from mmwatch.analysis.labels import LabelFamily, read_labels
from mmwatch.judges import harm_rules, refusal_v2
from mmwatch.judges.runner import JudgePlugin
from mmwatch.registry import Plugin, PluginSpec

LABELS = Path(__file__).parent / "judge_labels"
BASELINE = "refusal-keywords"
FILES = {("dev", LabelFamily.REFUSAL): "refusal.csv", ("dev", LabelFamily.SAFETY): "harm.csv",
         ("holdout", LabelFamily.REFUSAL): "refusal_holdout.csv", ("holdout", LabelFamily.SAFETY): "harm_holdout.csv"}


@dataclass(frozen=True)
class Row:
    split: str
    family: LabelFamily
    report: CalibrationReport
    ratio: float | None  # accuracy / the baseline's on the same file


def judges() -> list[tuple[str, JudgePlugin]]:
    """The rule judges, registered ones by name; refusal-rules v1 built from its kept rule version."""
    info = plugins.judges.info("refusal-rules")
    v1 = Plugin(PluginSpec(name="refusal-rules", version=1), info, refusal_v2.judge_fn(1))
    named = [(n, plugins.judges.build(n)) for n in (BASELINE, "xstest-strmatch", "refusal-rules", "harm-rules")]
    return [named[0], ("refusal-rules v1", v1), *named[1:]]


def measure(folder: Path) -> list[Row]:
    out: list[Row] = []
    built = judges()
    for (split, family), name in FILES.items():
        rows = read_labels(folder / name)
        # a harm judge's SAFE is no "refusal": it is measured on harm labels only
        reports = [calibrate(plugin, rows) for name, plugin in built
                   if family is LabelFamily.SAFETY or name != "harm-rules"]
        base = reports[0].confusion.accuracy.value
        out += [Row(split, family, r, accuracy_ratio(r.confusion.accuracy.value, base)) for r in reports]
    return out


def passed(rows: list[Row]) -> list[str]:
    """The targets each split missed (empty: all met)."""
    missed = []
    for split in {r.split for r in rows}:
        acc = {(r.family, r.report.judge, r.report.judge_version): r.report.confusion.accuracy.value or 0.0
               for r in rows if r.split == split}
        v2 = acc[(LabelFamily.REFUSAL, "refusal-rules", refusal_v2.VERSION)]
        if v2 < acc[(LabelFamily.REFUSAL, "xstest-strmatch", 1)]:
            missed.append(f"{split}: refusal-rules v2 < xstest-strmatch on refusal labels")
        if acc[(LabelFamily.SAFETY, "harm-rules", harm_rules.VERSION)] <= acc[(LabelFamily.SAFETY, BASELINE, 1)]:
            missed.append(f"{split}: harm-rules <= {BASELINE} on harm labels")
    return sorted(missed)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=Path, default=LABELS)
    args = parser.parse_args()
    rows = measure(args.labels)
    print(f"{'split':8} {'family':8} {'judge':22} {'n':>4} {'unsc':>4} {'accuracy':>8}  {'95% CI':13} "
          f"{'sens':>6} {'spec':>6} {'vs ' + BASELINE:>20}")
    for r in rows:
        c = r.report.confusion
        lo, hi = c.accuracy.interval
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}x"
        sens, spec = (f"{v:.1%}" if v is not None else "—" for v in (c.sensitivity.value, c.specificity.value))
        print(f"{r.split:8} {r.family.value:8} {r.report.judge + ' v' + str(r.report.judge_version):22} {c.n:4d} "
              f"{r.report.unscored:4d} {c.accuracy.value or 0:8.1%}  {lo:5.1%}–{hi:5.1%}  {sens:>6} {spec:>6} "
              f"{ratio:>20}")
    missed = passed(rows)
    print("targets: refusal-rules v2 >= xstest-strmatch (refusal), harm-rules > refusal-keywords (harm): "
          + ("met" if not missed else "MISSED: " + "; ".join(missed)))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
