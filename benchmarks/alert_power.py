"""How often the regression watch cries wolf, and how often it catches a real regression.

The watch (mmwatch.alerts.watch.find_regressions) makes dozens of paired tests a night; its
default config must keep nights with a false alert rare (target: at most 1 %), yet still catch
regressions worth an alert. This drives the real `find_regressions` with `RegressionConfig()`
(Holm) and with BH on simulated revisions whose true per-item rates are known, then prints the
false-alarm share and the detection rate of planted regressions with Wilson 95 % intervals.
Exits non-zero when the default config misses the false-alarm target.

Each night is an independent lineage: item truths are drawn afresh, `--history` revisions are
answered from them, and only the newest is tested (against its predecessor and the best earlier
revision, as the nightly cycle does). Independent nights keep the interval honest; a single
rolling lineage would reuse the same history night after night and correlate the nights.
Power trials use a shorter history (`--power-history`, default 2: the predecessor test alone),
because the watch costs ~35 us per row and a 6-revision night is 7,800 rows.

    .venv/bin/python benchmarks/alert_power.py [--nights 300] [--trials 60] [--history 6]
        [--power-history 2] [--seed 0]
"""

from __future__ import annotations

from typing import Any

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from mmwatch.alerts import watch
from mmwatch.alerts.watch import ALL, Comparison, find_regressions
from mmwatch.analysis.outcomes import JudgeRole, Outcome
from mmwatch.analysis.stats import wilson
from mmwatch.config import Correction, RegressionConfig
from mmwatch.records import AlertMetric, AlertRecord, ItemOutcome
from mmwatch.types import SampleKind

ATTACKS = {"none": 0.10, "figstep": 0.30, "typo": 0.45}  # mean true ASR without a defense
DEFENSES = {"none": 1.0, "sysprompt": 0.5}  # a defense scales every item's ASR
CATEGORIES = ("weapons", "fraud", "self-harm", "cyber")
N_HARMFUL, N_BENIGN, N_UTILITY = 200, 50, 50
BENIGN_REFUSAL, UTILITY_ACCURACY = 0.10, 0.60
CONCENTRATION = 3.0  # Beta a + b of the per-item rates: low, so items differ a lot (as real ones do)
SAFETY_JUDGE, UTILITY_JUDGE = ("refusal-keywords", 1), ("exact-match", 1)
PLANTED_CELL = "asr:figstep/none"
FALSE_ALARM_TARGET = 0.01
LINEAGE = "lin"

# ItemOutcome's fields from attack to is_primary: what a row shares with the same item's other revisions
Static = tuple[str, str, str, str, str, int, str, int, SampleKind, str, bool, JudgeRole, bool]
Detector = Callable[[AlertRecord], bool]


@dataclass(frozen=True)
class Block:
    """Items scored alike (one attack x defense cell, the benign set, the utility set): the row
    fields they share with every revision, and the outcome that counts as bad for the watch."""

    name: str
    static: tuple[Static, ...]
    bad_mean: float  # mean true probability of the bad outcome
    good: Outcome
    bad: Outcome


def _harmful_block(attack: str, defense: str) -> Block:
    """200 harmful items under one attack x defense; 4 categories of 50."""
    per_category = N_HARMFUL // len(CATEGORIES)
    static = tuple((attack, defense, f"h-{attack}", f"h-{defense}", *SAFETY_JUDGE, f"s{i}", 0, SampleKind.HARMFUL,
                    CATEGORIES[i // per_category], False, JudgeRole.SAFETY, True) for i in range(N_HARMFUL))
    return Block(f"asr:{attack}/{defense}", static, ATTACKS[attack] * DEFENSES[defense], Outcome.REFUSED,
                 Outcome.SUCCESS)


def _answer_block(kind: SampleKind, n: int) -> Block:
    """Benign items (bad = refused) or utility items (bad = wrong), without attack or defense."""
    utility = kind is SampleKind.UTILITY
    judge, role = (UTILITY_JUDGE, JudgeRole.UTILITY) if utility else (SAFETY_JUDGE, JudgeRole.SAFETY)
    static = tuple(("none", "none", "h-none", "h-none", *judge, f"{kind}{i}", 0, kind, "", False, role, True)
                   for i in range(n))
    if utility:
        return Block("utility", static, 1 - UTILITY_ACCURACY, Outcome.CORRECT, Outcome.WRONG)
    return Block("benign", static, BENIGN_REFUSAL, Outcome.SAFE, Outcome.REFUSED)


def matrix() -> list[Block]:
    return [_harmful_block(a, d) for a in ATTACKS for d in DEFENSES] + [
        _answer_block(SampleKind.BENIGN, N_BENIGN), _answer_block(SampleKind.UTILITY, N_UTILITY)]


def true_rates(rng: np.random.Generator, block: Block) -> np.ndarray:
    """Each item's own probability of the bad outcome, drawn once per lineage."""
    m = block.bad_mean
    return rng.beta(m * CONCENTRATION, (1 - m) * CONCENTRATION, size=len(block.static))


def worsen(p: np.ndarray, points: float) -> np.ndarray:
    """Raise the mean bad rate by `points`: each good answer turns bad with one shared chance, so
    every item stays a probability and the easy items move most (as a broken safety tune would)."""
    return p + (1 - p) * min(1.0, points / (1 - float(p.mean())))


def answers(rng: np.random.Generator, block: Block, p: np.ndarray, model: str, order: float) -> list[ItemOutcome]:
    """One revision's answers to the block: a fresh Bernoulli draw per item."""
    bad = rng.random(len(p)) < p
    return [ItemOutcome(LINEAGE, model, order, *s, block.bad if b else block.good)
            for s, b in zip(block.static, bad, strict=True)]


def lineage(rng: np.random.Generator, blocks: Sequence[Block], history: int,
            plant: tuple[str, float] | None = None) -> tuple[list[ItemOutcome], str]:
    """`history` revisions with the same truths; the newest gets `plant` (block, points) if given."""
    truths = [true_rates(rng, b) for b in blocks]
    rows: list[ItemOutcome] = []
    newest = f"{LINEAGE}@r{history - 1}"
    for k in range(history):
        model = f"{LINEAGE}@r{k}"
        for block, p in zip(blocks, truths, strict=True):
            if plant is not None and model == newest and block.name == plant[0]:
                p = worsen(p, plant[1])
            rows += answers(rng, block, p, model, float(k))
    return rows, newest


SETTINGS = {"holm (default)": RegressionConfig(), "bh": RegressionConfig(correction=Correction.BH)}
assert SETTINGS["holm (default)"].correction is Correction.HOLM
assert SETTINGS["bh"].model_copy(update={"correction": Correction.HOLM}) == SETTINGS["holm (default)"]


@contextmanager
def shared_comparisons() -> Iterator[None]:
    """Run `find_regressions` unchanged, but compute its comparisons (which do not depend on the
    correction, the only setting that differs) once per night's rows: it halves the runtime."""
    real = watch.compare
    last: list[tuple[Sequence[ItemOutcome], frozenset[str] | None, list[Comparison]]] = []

    def once(rows: Sequence[ItemOutcome], settings: RegressionConfig, revisions_to_test: set[str] | None = None,
             table: Any = None) -> list[Comparison]:
        key = frozenset(revisions_to_test) if revisions_to_test is not None else None
        if not last or last[0][0] is not rows or last[0][1] != key:
            last[:] = [(rows, key, real(rows, settings, revisions_to_test, table))]
        return last[0][2]

    watch.compare = once
    try:
        yield
    finally:
        watch.compare = real


def where(alert: AlertRecord) -> str:
    """The kind of slice an alert is on, so the false-alarm table says what fires."""
    if alert.metric is AlertMetric.ASR:
        level = "per category" if alert.category else ("pooled" if alert.attack_hash == ALL else "attack x defense")
        return f"asr {level} vs {alert.baseline_kind.value}"
    return f"{alert.metric.value} vs {alert.baseline_kind.value}"


@dataclass
class Tally:
    """One setting's count over a run of nights: nights that alerted (as `detects` reads it), and why."""

    nights: int = 0
    hits: int = 0
    comparisons: int = 0
    fired: Counter[str] = field(default_factory=Counter)  # nights on which each kind of slice fired

    def add(self, hit: bool, comparisons: int, alerts: list[AlertRecord]) -> None:
        self.nights += 1
        self.hits += hit
        self.comparisons += comparisons
        self.fired.update(set(map(where, alerts)))

    def cell(self) -> str:
        low, high = wilson(self.hits, self.nights)
        return f"{self.hits}/{self.nights} | {self.hits / self.nights:.1%} | [{low:.1%}, {high:.1%}]"


def run(rng: np.random.Generator, blocks: Sequence[Block], n: int, history: int, plant: tuple[str, float] | None,
        detects: Detector) -> dict[str, Tally]:
    """`n` independent nights, each judged by every setting on the same rows."""
    tallies = {name: Tally() for name in SETTINGS}
    with shared_comparisons():
        for _ in range(n):
            rows, newest = lineage(rng, blocks, history, plant)
            for name, settings in SETTINGS.items():
                comparisons, alerts = find_regressions(rows, settings, "sim", {newest})
                tallies[name].add(any(map(detects, alerts)), len(comparisons), alerts)
    return tallies


def is_asr(a: AlertRecord) -> bool:
    return a.metric in (AlertMetric.ASR, AlertMetric.ANY_ATTACK_ASR)


POWER: list[tuple[str, str, float, Detector]] = [
    ("ASR +5 pts (figstep x none, 200 items)", PLANTED_CELL, 0.05, is_asr),
    ("ASR +10 pts (figstep x none, 200 items)", PLANTED_CELL, 0.10, is_asr),
    ("ASR +20 pts (figstep x none, 200 items)", PLANTED_CELL, 0.20, is_asr),
    ("over-refusal +20 pts (50 benign)", "benign", 0.20, lambda a: a.metric is AlertMetric.OVER_REFUSAL),
    ("utility -20 pts (50 utility)", "utility", 0.20, lambda a: a.metric is AlertMetric.UTILITY),
]


def print_parameters(args: argparse.Namespace) -> None:
    cfg = RegressionConfig()
    print(f"nights={args.nights} (history {args.history} revisions) trials={args.trials} (history "
          f"{args.power_history}) seed={args.seed}; "
          f"RegressionConfig(): alpha={cfg.alpha} min_effect={cfg.min_effect} min_pairs={cfg.min_pairs} "
          f"correction={cfg.correction.value} per_category={cfg.per_category}")
    cells = ", ".join(f"{a} x {d}: {m * s:.3f}" for a, m in ATTACKS.items() for d, s in DEFENSES.items())
    print(f"matrix: {N_HARMFUL} harmful items in {len(CATEGORIES)} categories x {len(ATTACKS)} attacks x "
          f"{len(DEFENSES)} defenses (mean true ASR {cells}); {N_BENIGN} benign (refusal {BENIGN_REFUSAL}), "
          f"{N_UTILITY} utility (accuracy {UTILITY_ACCURACY}); per-item rates ~ Beta(mean x {CONCENTRATION:g}, "
          f"(1 - mean) x {CONCENTRATION:g}), one Bernoulli draw per item and revision\n")


def print_false_alarms(tallies: dict[str, Tally]) -> bool:
    """The false-alarm table; True when the default config meets the target."""
    print("### False alarms (every revision has the same true rates)\n")
    print("| correction | nights with an alert | share | Wilson 95% | comparisons/night | target ≤ 1 % |")
    print("| --- | --- | --- | --- | --- | --- |")
    passed = True
    for name, t in tallies.items():
        ok = t.hits / t.nights <= FALSE_ALARM_TARGET
        verdict = ("PASS" if ok else "FAIL") + ("" if name.startswith("holm") else " (info, not gating)")
        passed &= ok or not name.startswith("holm")
        print(f"| {name} | {t.cell()} | {t.comparisons / t.nights:.0f} | {verdict} |")
    print_fired(tallies)
    return passed


def print_fired(tallies: dict[str, Tally]) -> None:
    """Which kind of slice and baseline the false alarms came from, in nights per correction."""
    kinds = Counter[str]()
    for t in tallies.values():
        kinds.update(t.fired)
    if not kinds:
        return
    print("\n| false alarms from (nights) | " + " | ".join(tallies) + " |")
    print("| --- |" + " --- |" * len(tallies))
    for kind, _ in kinds.most_common():
        print(f"| {kind} | " + " | ".join(str(t.fired[kind]) for t in tallies.values()) + " |")
    print()


def print_power(rows: list[tuple[str, dict[str, Tally]]]) -> None:
    print("### Power (planted regression on the newest revision)\n")
    print("| planted | correction | detected | share | Wilson 95% |")
    print("| --- | --- | --- | --- | --- |")
    for label, tallies in rows:
        for name, t in tallies.items():
            print(f"| {label} | {name} | {t.cell()} |")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=300, help="null nights for the false-alarm share")
    parser.add_argument("--trials", type=int, default=60, help="nights per planted regression")
    parser.add_argument("--history", type=int, default=6, help="revisions per null lineage (the newest is tested)")
    parser.add_argument("--power-history", type=int, default=2, help="revisions per lineage in the power trials")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start, cpu = time.perf_counter(), time.process_time()
    rng = np.random.default_rng(args.seed)
    blocks = matrix()
    print_parameters(args)
    passed = print_false_alarms(run(rng, blocks, args.nights, args.history, None, lambda a: True))
    print_power([(label, run(rng, blocks, args.trials, args.power_history, (block, points), detects))
                 for label, block, points, detects in POWER])
    print(f"false-alarm target (default config, share ≤ {FALSE_ALARM_TARGET:.0%}): {'PASS' if passed else 'FAIL'}")
    print(f"elapsed {time.perf_counter() - start:.1f} s wall, {time.process_time() - cpu:.1f} s CPU")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
