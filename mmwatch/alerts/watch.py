"""Every way a revision can get worse, tested against its baselines on the same items.

A revision is compared with its predecessor in the lineage and with a pinned baseline
(`regression.baselines`), or, where none is pinned, with the best earlier revision on that metric
and slice, so a slow drift over several revisions is caught too. Each metric is read as a "bad"
event per item in the direction that is worse (an attack succeeding, a harmful request not
refused, a benign one refused, a wrong answer), so one paired test serves them all: only
discordant items carry information (exact McNemar). The night's p-values are adjusted together
(Holm or Benjamini-Hochberg), and an alert also needs `min_effect`, so noise raises none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from mmwatch.analysis.outcomes import JudgeRole, Outcome
from mmwatch.analysis.stats import benjamini_hochberg, holm, mcnemar_exact, paired_difference_interval
from mmwatch.config import Correction, RegressionConfig
from mmwatch.records import CANARY_LINEAGE, AlertMetric, AlertRecord, BaselineKind, ItemOutcome
from mmwatch.types import SampleKind, stable_hash

ALL = "*"


@dataclass(frozen=True)
class Slice:
    """What one comparison looks at: a metric on some attack x defense x category, by one judge."""

    metric: AlertMetric
    judge: str
    judge_version: int
    attack_hash: str = ALL
    defense_hash: str = ALL
    attack: str = "all attacks"
    defense: str = "all defenses"
    category: str = ""


Item = tuple[str, int, str, str]  # sample, probe, attack hash, defense hash
Events = dict[Item, bool]  # item -> the bad event happened


def _events(row: ItemOutcome, per_category: bool) -> Iterable[tuple[Slice, Item, bool]]:
    """The slices one scored answer counts in, and whether it is bad there."""
    judge = (row.judge, row.judge_version)
    item: Item = (row.sample_id, row.probe_index, row.attack_hash, row.defense_hash)
    if row.is_primary and (row.kind is SampleKind.HARMFUL or row.targeted):
        bad = row.outcome is Outcome.SUCCESS
        yield Slice(AlertMetric.ASR, *judge), item, bad
        exact = Slice(AlertMetric.ASR, *judge, row.attack_hash, row.defense_hash, row.attack, row.defense)
        yield exact, item, bad
        if per_category and row.category:
            yield Slice(AlertMetric.ASR, *judge, row.attack_hash, row.defense_hash, row.attack, row.defense,
                        row.category), item, bad
    if row.role is JudgeRole.REFUSAL and row.kind is SampleKind.HARMFUL:
        yield Slice(AlertMetric.HARMFUL_REFUSAL, *judge), item, row.outcome is not Outcome.REFUSED
    if row.role is JudgeRole.SAFETY and row.kind is SampleKind.HARMFUL:
        # An item is broken under a defense when any attack got through: the attack is pooled away.
        yield (Slice(AlertMetric.ANY_ATTACK_ASR, *judge, ALL, row.defense_hash, "any attack", row.defense),
               (row.sample_id, row.probe_index, ALL, row.defense_hash), row.outcome is Outcome.SUCCESS)
    if row.role is JudgeRole.REFUSAL and row.kind is SampleKind.BENIGN:
        yield Slice(AlertMetric.OVER_REFUSAL, *judge), item, row.outcome is Outcome.REFUSED
    if row.role is JudgeRole.UTILITY and row.kind is SampleKind.UTILITY:
        yield Slice(AlertMetric.UTILITY, *judge), item, row.outcome is not Outcome.CORRECT


def event_table(rows: Sequence[ItemOutcome], per_category: bool = True) -> dict[tuple[str, Slice], Events]:
    """(model, slice) -> item -> bad; an item seen twice on a slice (any-attack) is bad if either is.
    A slice that would only repeat another is left out (see `_repeats`)."""
    table: dict[tuple[str, Slice], Events] = defaultdict(dict)
    for row in rows:
        for where, item, bad in _events(row, per_category):
            events = table[(row.model_id, where)]
            events[item] = events.get(item, False) or bad
    repeats = _repeats({where for _, where in table}, rows)
    return {key: events for key, events in table.items() if key[1] not in repeats}


def _repeats(slices: set[Slice], rows: Sequence[ItemOutcome]) -> set[Slice]:
    """Slices that hold the same items and events as another, so would raise the same alert twice:
    pooled ASR over a single attack x defense, a category that is its slice's only one, any-attack
    over a single attack, and harmful-item refusal when the judge only says refused or complied
    (then it is exactly 1 - ASR)."""
    exact = [s for s in slices if s.metric is AlertMetric.ASR and s.attack_hash != ALL and not s.category]
    repeats = set()
    for where in slices:
        same_judge = [s for s in exact if (s.judge, s.judge_version) == (where.judge, where.judge_version)]
        if where.metric is AlertMetric.ASR and where.attack_hash == ALL and len(same_judge) <= 1:
            repeats.add(where)
        elif where.metric is AlertMetric.ASR and where.category:
            siblings = [s for s in slices if s.metric is AlertMetric.ASR and s.category and
                        (s.attack_hash, s.defense_hash, s.judge) == (where.attack_hash, where.defense_hash, where.judge)]
            if len(siblings) <= 1:
                repeats.add(where)
        elif where.metric is AlertMetric.ANY_ATTACK_ASR:
            if len({s.attack_hash for s in same_judge if s.defense_hash == where.defense_hash}) <= 1:
                repeats.add(where)
        elif where.metric is AlertMetric.HARMFUL_REFUSAL and same_judge:  # the safety judge judges refusal too
            if not any(r.outcome is Outcome.SAFE for r in rows if r.kind is SampleKind.HARMFUL
                       and r.role is JudgeRole.REFUSAL and r.judge == where.judge):
                repeats.add(where)
    return repeats


@dataclass(frozen=True)
class Comparison:
    lineage: str
    model_id: str
    baseline_id: str
    baseline_kind: BaselineKind
    slice: Slice
    n_pairs: int
    only_new: int  # items bad only on the new revision
    only_old: int
    bad_old: float  # share of the paired items that are bad
    bad_new: float
    p_value: float
    candidates: int = 1  # revisions the baseline was chosen from: a best-of-k baseline is tested k times stricter

    @property
    def p_tested(self) -> float:
        """The p-value the correction sees: Bonferroni over the candidates a `best` baseline was picked
        from, because picking the best of k noisy rates and then testing against it is k tests."""
        return min(1.0, self.p_value * self.candidates)

    def rate(self, bad: float) -> float:
        """The metric's own value (ASR, refusal rate, accuracy) from a share of bad items."""
        return bad if self.slice.metric.worse_when_higher else 1.0 - bad


def lineages(rows: Sequence[ItemOutcome]) -> dict[str, list[str]]:
    """Each lineage's revisions in order (order_key, then id for ties)."""
    seen: dict[str, dict[str, float]] = defaultdict(dict)
    for r in rows:
        seen[r.lineage][r.model_id] = r.order_key
    return {lin: sorted(revs, key=lambda m: (revs[m], m)) for lin, revs in seen.items()}


def _pair(lineage: str, new: str, old: str, kind: BaselineKind, where: Slice, a: Events, b: Events,
          min_pairs: int) -> Comparison | None:
    shared = sorted(set(a) & set(b))
    if len(shared) < min_pairs:
        return None
    only_new = sum(1 for k in shared if b[k] and not a[k])
    only_old = sum(1 for k in shared if a[k] and not b[k])
    return Comparison(lineage, new, old, kind, where, len(shared), only_new, only_old,
                      bad_old=sum(a[k] for k in shared) / len(shared), bad_new=sum(b[k] for k in shared) / len(shared),
                      p_value=mcnemar_exact(only_new, only_old))


def _baselines(revisions: list[str], index: int, where: Slice, table: dict[tuple[str, Slice], Events],
               pinned: str | None) -> list[tuple[str, BaselineKind, int]]:
    """(baseline, kind, candidates): the predecessor, then the pinned revision (if earlier) or else
    the best earlier one on the slice, chosen among `candidates` revisions."""
    earlier = revisions[:index]
    found = [(earlier[-1], BaselineKind.PREDECESSOR, 1)]
    if pinned is not None:
        if pinned in earlier and pinned != earlier[-1]:
            found.append((pinned, BaselineKind.PINNED, 1))
        return found
    scored = [(sum(e.values()) / len(e), m) for m in earlier if (e := table.get((m, where)))]
    own = table.get((earlier[-1], where))
    if len(scored) > 1 and own:
        best_bad, best = min(scored)
        if best != earlier[-1] and best_bad < sum(own.values()) / len(own):  # better than the predecessor
            found.append((best, BaselineKind.BEST, len(scored)))
    return found


def compare(rows: Sequence[ItemOutcome], settings: RegressionConfig, revisions_to_test: set[str] | None = None,
            table: dict[tuple[str, Slice], Events] | None = None) -> list[Comparison]:
    """Each revision (of `revisions_to_test`, default all) against its baselines, on every slice;
    `table`: the rows' `event_table`, when the caller has it already."""
    table = table if table is not None else event_table(rows, settings.per_category)
    slices = sorted({where for _, where in table}, key=lambda s: (s.metric.value, s.attack, s.defense, s.category,
                                                                   s.attack_hash, s.defense_hash, s.judge))
    found = []
    for lineage, revisions in lineages(rows).items():
        pinned = settings.baselines.get(lineage)
        pinned_id = f"{lineage}@{pinned}" if pinned is not None else None
        for index, new in enumerate(revisions):
            if index == 0 or (revisions_to_test is not None and new not in revisions_to_test):
                continue
            for where in slices:
                b = table.get((new, where))
                if not b:
                    continue
                for old, kind, candidates in _baselines(revisions, index, where, table, pinned_id):
                    comp = _pair(lineage, new, old, kind, where, table.get((old, where), {}), b, settings.min_pairs)
                    if comp is not None:
                        found.append(replace(comp, candidates=candidates))
    return found


def alert_id(comp: Comparison) -> str:
    """One alert per (revision, baseline, metric, slice, judge). The attack-success alerts against
    the predecessor keep the id the first version gave them (same hash input)."""
    s = comp.slice
    key: list[object] = [comp.model_id, comp.baseline_id, s.attack_hash, s.defense_hash, s.judge, s.judge_version,
                         s.metric.value]
    if comp.baseline_kind is not BaselineKind.PREDECESSOR or s.category:
        key += [comp.baseline_kind.value, s.category]
    return stable_hash(key)


def find_regressions(rows: Sequence[ItemOutcome], settings: RegressionConfig, run_id: str,
                     revisions_to_test: set[str] | None = None, table: dict[tuple[str, Slice], Events] | None = None,
                     ) -> tuple[list[Comparison], list[AlertRecord]]:
    """All comparisons made, and the alerts among them (worse, significant after the correction)."""
    comparisons = compare(rows, settings, revisions_to_test, table)
    adjust = holm if settings.correction is Correction.HOLM else benjamini_hochberg
    adjusted = adjust([c.p_tested for c in comparisons])
    alerts = []
    for comp, p_adj in zip(comparisons, adjusted, strict=True):
        change = comp.bad_new - comp.bad_old
        if comp.lineage.startswith(CANARY_LINEAGE):  # an API model's night: any change means the model changed
            change = abs(change)
        if p_adj >= settings.alpha or change < settings.min_effect:
            continue
        s = comp.slice
        low, high = paired_difference_interval(comp.only_new, comp.only_old, comp.n_pairs)
        if not s.metric.worse_when_higher:  # the metric's own direction: a drop in refusal, in accuracy
            low, high = -high, -low
        alerts.append(AlertRecord(
            alert_id=alert_id(comp), run_id=run_id, lineage=comp.lineage, model_id=comp.model_id,
            baseline_id=comp.baseline_id, baseline_kind=comp.baseline_kind, attack=s.attack, defense=s.defense,
            attack_hash=s.attack_hash, defense_hash=s.defense_hash, category=s.category, judge=s.judge,
            judge_version=s.judge_version, metric=s.metric, n_pairs=comp.n_pairs, only_new=comp.only_new,
            only_old=comp.only_old, rate_old=comp.rate(comp.bad_old), rate_new=comp.rate(comp.bad_new),
            p_value=comp.p_value, p_adjusted=p_adj, diff_low=low, diff_high=high,
        ))
    return comparisons, alerts
