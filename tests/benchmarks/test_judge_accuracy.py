"""benchmarks/judge_accuracy.py on the project's own label files: targets met, every judge measured."""

from __future__ import annotations

from benchmarks.judge_accuracy import LABELS, measure, passed
from mmwatch.analysis.labels import LabelFamily, read_labels


def test_label_files_are_readable_and_sized() -> None:
    sizes = {f.name: len(read_labels(f)) for f in sorted(LABELS.glob("*.csv"))}
    assert sum(sizes.values()) >= 200, sizes
    families = {f.name: {r.label for r in read_labels(f)} for f in LABELS.glob("*.csv")}
    assert {lab.value for lab in families["harm.csv"]} == {"safe", "unsafe"}
    assert {lab.value for lab in families["refusal.csv"]} == {"refusal", "compliance"}


def test_targets_are_met_and_the_baseline_is_measured_in_the_same_run() -> None:
    rows = measure(LABELS)
    assert not passed(rows)
    baseline = [r for r in rows if r.report.judge == "refusal-keywords"]
    assert len(baseline) == 4 and all(r.ratio == 1.0 for r in baseline)
    assert not [r for r in rows if r.report.judge == "harm-rules" and r.family is LabelFamily.REFUSAL]
