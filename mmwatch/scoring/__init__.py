"""Benchmark scoring as the published benchmarks define it: pure functions, no plugins, no I/O.

Extraction (`yes_no`, `choice`) reads an answer out of free text and returns None when it cannot
tell; `vqa` is the official VQA normalisation and accuracy; `aggregates` turns per-item results
(`results.ItemResult`) into each benchmark's numbers with their counts. The judges in
mmwatch.judges.formats apply them to one probe at a time.
"""

from mmwatch.scoring.aggregates import (
    Accuracy,
    GroupedAccuracy,
    Pope,
    VqaAccuracy,
    accuracy,
    circular,
    grouped_accuracy,
    mme,
    pope,
    vqa_mean,
)
from mmwatch.scoring.choice import extract_choice, option_letters
from mmwatch.scoring.results import ItemResult, Mean, Rate, Unscored, item_result
from mmwatch.scoring.vqa import normalise_vqa, short_answer, vqa_accuracy
from mmwatch.scoring.yes_no import YesNo, extract_yes_no, parse_yes_no

__all__ = ["Accuracy", "GroupedAccuracy", "ItemResult", "Mean", "Pope", "Rate", "Unscored", "VqaAccuracy", "YesNo",
           "accuracy", "circular", "extract_choice", "extract_yes_no", "grouped_accuracy", "item_result", "mme",
           "normalise_vqa", "option_letters", "parse_yes_no", "pope", "short_answer", "vqa_accuracy", "vqa_mean"]
