"""Safety regressions: a revision against its predecessor in the same lineage, item by item.

For each attack and defense spec (by hash, never by label) and the judge that scores them, the
two revisions are paired on the same items of the current plan, with an item's success taken
from the one outcome definition (mmwatch.analysis.outcomes). Only the discordant pairs carry
information (exact McNemar test); p-values are Holm-corrected across every comparison made, and
an alert also needs a minimum rise in ASR, so a night's noise raises none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from mmwatch.analysis.outcomes import JudgeRef
from mmwatch.analysis.stats import holm, mcnemar_exact
from mmwatch.config import RegressionConfig
from mmwatch.records import AlertMetric, AlertRecord, PairedOutcome
from mmwatch.types import stable_hash


@dataclass(frozen=True)
class Slice:
    """What is compared: one attack spec under one defense spec, scored by one judge."""

    attack_hash: str
    defense_hash: str
    judge: JudgeRef
    attack: str
    defense: str


@dataclass(frozen=True)
class Comparison:
    lineage: str
    model_id: str
    baseline_id: str
    slice: Slice
    n_pairs: int
    only_new: int
    only_old: int
    rate_old: float
    rate_new: float
    p_value: float


def _revisions(outcomes: Sequence[PairedOutcome]) -> dict[str, list[str]]:
    """Each lineage's revisions in order (order_key, then id for ties)."""
    seen: dict[str, dict[str, float]] = defaultdict(dict)
    for o in outcomes:
        seen[o.lineage][o.model_id] = o.order_key
    return {lin: sorted(revs, key=lambda m: (revs[m], m)) for lin, revs in seen.items()}


def _slice(o: PairedOutcome) -> Slice:
    return Slice(o.attack_hash, o.defense_hash, o.judge, o.attack, o.defense)


def compare(outcomes: Sequence[PairedOutcome], min_pairs: int) -> list[Comparison]:
    """Every revision against its predecessor, per slice, on shared items."""
    table: dict[tuple[str, Slice], dict[tuple[str, int], bool]] = defaultdict(dict)
    for o in outcomes:
        table[(o.model_id, _slice(o))][(o.sample_id, o.probe_index)] = o.success
    slices = sorted({_slice(o) for o in outcomes}, key=lambda s: (s.attack, s.defense, s.attack_hash, s.defense_hash))
    found = []
    for lineage, revisions in _revisions(outcomes).items():
        for old, new in zip(revisions, revisions[1:]):
            for where in slices:
                a, b = table.get((old, where), {}), table.get((new, where), {})
                shared = sorted(set(a) & set(b))
                if len(shared) < min_pairs:
                    continue
                only_new = sum(1 for k in shared if b[k] and not a[k])
                only_old = sum(1 for k in shared if a[k] and not b[k])
                found.append(Comparison(
                    lineage, new, old, where, len(shared), only_new, only_old,
                    rate_old=sum(a[k] for k in shared) / len(shared),
                    rate_new=sum(b[k] for k in shared) / len(shared),
                    p_value=mcnemar_exact(only_new, only_old),
                ))
    return found


def alert_id(comp: Comparison, metric: AlertMetric) -> str:
    """One alert per (revision, predecessor, attack spec, defense spec, judge, metric)."""
    s = comp.slice
    return stable_hash([comp.model_id, comp.baseline_id, s.attack_hash, s.defense_hash, s.judge.name,
                        s.judge.version, metric.value])


def find_regressions(outcomes: Sequence[PairedOutcome], settings: RegressionConfig,
                     run_id: str) -> tuple[list[Comparison], list[AlertRecord]]:
    """All comparisons made, and the alerts among them (ASR rose, significant after Holm)."""
    comparisons = compare(outcomes, settings.min_pairs)
    adjusted = holm([c.p_value for c in comparisons])
    alerts = []
    for comp, p_adj in zip(comparisons, adjusted, strict=True):
        if p_adj < settings.alpha and comp.rate_new - comp.rate_old >= settings.min_effect:
            s = comp.slice
            alerts.append(AlertRecord(
                alert_id=alert_id(comp, AlertMetric.ASR), run_id=run_id, lineage=comp.lineage,
                model_id=comp.model_id, baseline_id=comp.baseline_id, attack=s.attack, defense=s.defense,
                attack_hash=s.attack_hash, defense_hash=s.defense_hash, judge=s.judge.name,
                judge_version=s.judge.version, metric=AlertMetric.ASR, n_pairs=comp.n_pairs,
                only_new=comp.only_new, only_old=comp.only_old, rate_old=comp.rate_old, rate_new=comp.rate_new,
                p_value=comp.p_value, p_adjusted=p_adj,
            ))
    return comparisons, alerts
