"""Judges measured against humans: agreement, error rates, and the ASR a perfect judge would count.

An ASR is only as good as the judge that counts the successes, so every judge can be run on
answers that people labelled (`mmwatch calibrate JUDGE --labels FILE.csv`). The positive class is
always *attack success*: `compliance` (refusal judgements) or `unsafe` (safety judgements). The
report gives accuracy, Cohen's kappa, sensitivity and specificity with Wilson intervals, and the
2x2 table; `corrected_asr` then turns an observed ASR into an estimate of the true one.

The labels come from a CSV (mmwatch.analysis.labels). `calibrate` runs the judge on every row
whatever its `applies_to`, and a judge failure costs one UNSCORED row, as in a run; unscored rows
are counted and left out of the 2x2 table, like unscored verdicts are left out of a rate.

The report also gives macro-F1, for comparison with papers that report it.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from mmwatch.aio import run_sync
from mmwatch.analysis.labels import (
    CLASS_NAMES,
    FAMILY,
    HumanLabel,
    LabelFamily,
    LabelledRow,
    LabelsError,
    read_labels,
)
from mmwatch.analysis.outcomes import attack_succeeded
from mmwatch.analysis.stats import wilson
from mmwatch.judges.runner import JudgePlugin, safe_call
from mmwatch.types import Label, Probe, Response

if TYPE_CHECKING:
    from rich.table import Table

EXAMPLES = 10  # disagreements / unscored rows kept in a report for people to read


# --- rates and agreement --------------------------------------------------------------------
@dataclass(frozen=True)
class Rate:
    """k of n, with a Wilson interval (z=1.96 gives 95%)."""

    k: int
    n: int
    z: float = 1.96

    @property
    def value(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.k, self.n, self.z)


@dataclass(frozen=True)
class Confusion:
    """2x2 table of (human, judge) with positive = attack success."""

    tp: int = 0  # both say success
    fp: int = 0  # judge says success, human does not
    fn: int = 0  # human says success, judge does not
    tn: int = 0

    @classmethod
    def of(cls, pairs: Sequence[tuple[bool, bool]]) -> Confusion:
        """From (human_positive, judge_positive) pairs."""
        c = Counter(pairs)
        return cls(tp=c[(True, True)], fp=c[(False, True)], fn=c[(True, False)], tn=c[(False, False)])

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def accuracy(self) -> Rate:
        return Rate(self.tp + self.tn, self.n)

    @property
    def sensitivity(self) -> Rate:
        """Of the answers people call a success, the share the judge also calls one."""
        return Rate(self.tp, self.tp + self.fn)

    @property
    def specificity(self) -> Rate:
        return Rate(self.tn, self.tn + self.fp)

    @property
    def macro_f1(self) -> float | None:
        """Mean F1 of the two classes present (scikit-learn's convention); None on an empty table."""
        pairs = ((self.tp, self.fp + self.fn), (self.tn, self.fn + self.fp))  # (hits, misses) of each class
        scores = [2 * hit / (2 * hit + wrong) for hit, wrong in pairs if 2 * hit + wrong]
        return sum(scores) / len(scores) if scores else None

    @property
    def kappa(self) -> float | None:
        """Cohen's kappa; None when chance agreement is 1 (both sides used a single class)."""
        n = self.n
        if n == 0:
            return None
        po = (self.tp + self.tn) / n
        pe = ((self.tp + self.fp) * (self.tp + self.fn) + (self.fn + self.tn) * (self.fp + self.tn)) / (n * n)
        return None if pe >= 1.0 else (po - pe) / (1 - pe)

    @property
    def kappa_interval(self) -> tuple[float, float] | None:
        """Large-sample 95% interval, SE = sqrt(po(1-po)/n)/(1-pe) (Cohen 1960): rough below n~50."""
        kappa, n = self.kappa, self.n
        if kappa is None:
            return None
        po = (self.tp + self.tn) / n
        pe = ((self.tp + self.fp) * (self.tp + self.fn) + (self.fn + self.tn) * (self.fp + self.tn)) / (n * n)
        half = 1.96 * math.sqrt(po * (1 - po) / n) / (1 - pe)
        return (max(-1.0, kappa - half), min(1.0, kappa + half))


# --- corrected ASR ---------------------------------------------------------------------------
def rogan_gladen(p_obs: float, sensitivity: float, specificity: float) -> float:
    """(p_obs + spec - 1) / (sens + spec - 1), clipped to [0, 1]; needs sens + spec > 1."""
    youden = sensitivity + specificity - 1
    if youden <= 0:
        raise ValueError(f"Rogan-Gladen needs sensitivity + specificity > 1, got {sensitivity} + {specificity}")
    return min(1.0, max(0.0, (p_obs + specificity - 1) / youden))


@dataclass(frozen=True)
class CorrectedRate:
    observed: Rate
    estimate: float | None  # None: the judge is no better than chance, nothing can be corrected
    interval: tuple[float, float]


def corrected_asr(successes: int, n: int, confusion: Confusion, alpha: float = 0.05) -> CorrectedRate:
    """The ASR a perfect judge would have counted, from the judge's measured sens/spec.

    Interval: Bonferroni box. The observed rate, sensitivity and specificity each get a Wilson
    interval at level 1 - alpha/3, so all three hold together with probability >= 1 - alpha; the
    corrected rate is monotone in each argument, so its range over the box is attained at the
    box's 8 corners. Conservative (wider than a delta-method interval), and honest at 0/n. If the
    box reaches sens + spec <= 1 the interval is [0, 1].
    """
    z = NormalDist().inv_cdf(1 - alpha / 6)
    observed = Rate(successes, n)
    sens, spec = confusion.sensitivity, confusion.specificity
    if observed.value is None or sens.value is None or spec.value is None or sens.value + spec.value <= 1:
        return CorrectedRate(observed, None, (0.0, 1.0))
    estimate = rogan_gladen(observed.value, sens.value, spec.value)
    boxes = [wilson(r.k, r.n, z) for r in (observed, sens, spec)]
    if boxes[1][0] + boxes[2][0] <= 1:
        return CorrectedRate(observed, estimate, (0.0, 1.0))
    corners = [rogan_gladen(p, se, sp) for p in boxes[0] for se in boxes[1] for sp in boxes[2]]
    return CorrectedRate(observed, estimate, (min(corners), max(corners)))


# --- calibrating a judge -----------------------------------------------------------------------
@dataclass(frozen=True)
class Example:
    """One labelled row where the judge disagreed with people, or could not decide."""

    where: str
    human: HumanLabel
    judge: Label
    rationale: str


@dataclass(frozen=True)
class CalibrationReport:
    """How one judge agrees with people on one label file."""

    judge: str  # the judge's label, e.g. `llm-harmbench` or `ensemble(rule=any)`
    judge_version: int
    family: LabelFamily  # what the people labelled
    rows: int
    confusion: Confusion
    unscored: int  # judge said UNSCORED (or a label that does not answer this question)
    disagreements: tuple[Example, ...] = ()
    unscored_examples: tuple[Example, ...] = ()
    judge_labels: dict[str, int] = field(default_factory=dict)

    @property
    def classes(self) -> tuple[str, str]:
        """(positive, negative) class names: ("compliance", "refusal") or ("unsafe", "safe")."""
        return CLASS_NAMES[self.family]

    def corrected_asr(self, successes: int, n: int, alpha: float = 0.05) -> CorrectedRate:
        return corrected_asr(successes, n, self.confusion, alpha)

    def summary(self) -> dict[str, Any]:
        """Plain numbers, for JSON output and storage."""
        c = self.confusion
        return {
            "judge": self.judge, "judge_version": self.judge_version, "family": self.family,
            "rows": self.rows, "scored": c.n, "unscored": self.unscored,
            "tp": c.tp, "fp": c.fp, "fn": c.fn, "tn": c.tn,
            "accuracy": c.accuracy.value, "accuracy_ci": c.accuracy.interval, "kappa": c.kappa,
            "macro_f1": c.macro_f1,
            "sensitivity": c.sensitivity.value, "sensitivity_ci": c.sensitivity.interval,
            "specificity": c.specificity.value, "specificity_ci": c.specificity.interval,
            "judge_labels": dict(self.judge_labels),
        }


def calibrate(judge_plugin: JudgePlugin, rows: Sequence[LabelledRow], concurrency: int = 8) -> CalibrationReport:
    """Run the judge on every labelled row (whatever its `applies_to`) and compare with people."""
    if not rows:
        raise LabelsError("no labelled rows to calibrate on")
    families = {FAMILY[r.label] for r in rows}
    if len(families) > 1:
        raise LabelsError("rows mix refusal/compliance with unsafe/safe labels: calibrate one kind per run")
    judgements = run_sync(_judge_rows(judge_plugin, rows, concurrency))
    pairs: list[tuple[bool, bool]] = []
    wrong: list[Example] = []
    unscored: list[Example] = []
    for row, j in zip(rows, judgements, strict=True):
        said = attack_succeeded(j.label)
        if said is None:
            unscored.append(Example(row.where, row.label, j.label, j.rationale))
            continue
        pairs.append((row.positive, said))
        if said != row.positive:
            wrong.append(Example(row.where, row.label, j.label, j.rationale))
    return CalibrationReport(
        judge=judge_plugin.spec.label, judge_version=judge_plugin.spec.version, family=families.pop(),
        rows=len(rows), confusion=Confusion.of(pairs), unscored=len(unscored),
        disagreements=tuple(wrong[:EXAMPLES]), unscored_examples=tuple(unscored[:EXAMPLES]),
        judge_labels=dict(Counter(j.label.value for j in judgements)),
    )


async def _judge_rows(judge_plugin: JudgePlugin, rows: Sequence[LabelledRow], concurrency: int) -> list[Any]:
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(i: int, row: LabelledRow) -> Any:
        probe = Probe(sample_id=f"labels:{row.where or i}", text=row.prompt, kind=row.kind, category=row.category,
                      images=(row.image,) if row.image is not None else ())
        async with gate:
            return await safe_call(judge_plugin, probe, Response(text=row.response))  # raising = UNSCORED

    return list(await asyncio.gather(*(one(i, r) for i, r in enumerate(rows))))


def run_calibration(judge_name: str, judge_params: dict[str, Any] | None, labels_path: Path | str,
                    concurrency: int = 8) -> CalibrationReport:
    """What `mmwatch calibrate JUDGE --labels FILE.csv` runs: build the judge, read, compare."""
    rows = read_labels(labels_path)  # a bad file fails before any judge model is built
    return calibrate_rows(judge_name, judge_params, rows, concurrency)


def calibrate_rows(judge_name: str, judge_params: dict[str, Any] | None, rows: Sequence[LabelledRow],
                   concurrency: int = 8) -> CalibrationReport:
    """Build the judge, compare it with labelled rows (a file's, or the store's), close it again."""
    from mmwatch.plugins import close_plugin, judges

    plugin = judges.build(judge_name, judge_params or {})
    try:
        return calibrate(plugin, rows, concurrency)
    finally:
        close_plugin(plugin.obj)


def compare_rows(judges: Sequence[tuple[str, dict[str, Any] | None]], rows: Sequence[LabelledRow],
                 concurrency: int = 8) -> list[CalibrationReport]:
    """Several judges on the same labelled rows, in the order given (the first is the baseline)."""
    return [calibrate_rows(name, params, rows, concurrency) for name, params in judges]


def one_family(rows: Sequence[LabelledRow], family: LabelFamily | None) -> list[LabelledRow]:
    """The rows of one label family: the one asked for, else the only one there is."""
    found = {FAMILY[r.label] for r in rows}
    if family is None:
        if len(found) > 1:
            raise LabelsError("the stored labels mix refusal/compliance with unsafe/safe: choose one with --family "
                              + " or --family ".join(sorted(f.value for f in found)))
        return list(rows)
    return [r for r in rows if FAMILY[r.label] is family]


def format_report(report: CalibrationReport) -> Table:
    """A rich table: the metrics with their intervals, then the 2x2 table."""
    from rich.table import Table

    pos, neg = report.classes
    c = report.confusion
    table = Table(title=f"{report.judge} (v{report.judge_version}) against human {pos}/{neg} labels")
    for column in ("metric", "value", "95% interval", "n"):
        table.add_column(column)
    table.add_row("rows labelled", str(report.rows), "", "")
    table.add_row("unscored by the judge", str(report.unscored), "", str(report.rows))
    for name, rate in (("accuracy", c.accuracy), (f"sensitivity (finds {pos})", c.sensitivity),
                       (f"specificity (finds {neg})", c.specificity)):
        table.add_row(name, _pct(rate.value), _interval(rate.interval if rate.n else None), str(rate.n))
    kappa = c.kappa
    table.add_row("macro-F1", "—" if c.macro_f1 is None else f"{c.macro_f1:.2f}", "", str(c.n))
    table.add_row("Cohen's kappa", "—" if kappa is None else f"{kappa:.2f}", _interval(c.kappa_interval, pct=False),
                  str(c.n))
    matrix = Table(show_header=True, box=None)
    for column in ("", f"judge {pos}", f"judge {neg}"):
        matrix.add_column(column)
    matrix.add_row(f"human {pos}", str(c.tp), str(c.fn))
    matrix.add_row(f"human {neg}", str(c.fp), str(c.tn))
    table.add_row("confusion", matrix, "", str(c.n))
    return table


def format_comparison(reports: Sequence[CalibrationReport]) -> Table:
    """One row per judge on the same labels; the last column is accuracy against the first judge's."""
    from rich.table import Table

    if not reports:
        raise ValueError("no calibration reports to compare")
    base = reports[0]
    pos, neg = base.classes
    table = Table(title=f"{len(reports)} judges against {base.rows} human {pos}/{neg} labels "
                        f"(baseline: {base.judge} v{base.judge_version})")
    for column in ("judge", "scored", "unscored", "accuracy", "95% interval", f"sensitivity ({pos})",
                   f"specificity ({neg})", "kappa", "accuracy vs baseline"):
        table.add_column(column)
    for r in reports:
        c = r.confusion
        table.add_row(f"{r.judge} v{r.judge_version}", str(c.n), str(r.unscored), _pct(c.accuracy.value),
                      _interval(c.accuracy.interval if c.n else None), _pct(c.sensitivity.value),
                      _pct(c.specificity.value), "—" if c.kappa is None else f"{c.kappa:.2f}",
                      _ratio(c.accuracy.value, base.confusion.accuracy.value))
    return table


def accuracy_ratio(value: float | None, baseline: float | None) -> float | None:
    """value / baseline, None when either is missing or the baseline is 0."""
    return None if value is None or not baseline else value / baseline


def _ratio(value: float | None, baseline: float | None) -> str:
    ratio = accuracy_ratio(value, baseline)
    return "—" if ratio is None else f"{ratio:.2f}×"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _interval(bounds: tuple[float, float] | None, pct: bool = True) -> str:
    if bounds is None:
        return "—"
    lo, hi = bounds
    return f"{lo:.1%}–{hi:.1%}" if pct else f"{lo:.2f}–{hi:.2f}"
