"""Each benchmark's own numbers (snapshot table `benchmark_scores`) and the utility score.

Per model x benchmark at the baseline defense, counted by that benchmark's judges (its own where
the config names one: `benchmarks[].safety_judge`, through the outcomes table's primary rows):

- harmful benchmarks: ASR per attack and, as the benchmark's headline, the equal-weight mean over
  its attacks (attack '*'; mmwatch.analysis.stats.equal_weight_rate, as the board's headline
  weighs benchmark x attack); the refusal rate per attack by the refusal judge;
- benign benchmarks: the over-refusal rate, on the items sent as they are (baseline attack);
- utility benchmarks: the metrics the benchmark publishes (mmwatch.scoring.benchmark, chosen by
  its loader's `utility_score` trait), at the baseline attack, its headline flagged.

The leaderboard's utility is then the utility score: the equal-weight mean of the utility
benchmarks' headlines (`fill_benchmark_scores`), so every number of a benchmark is computed here once.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, NamedTuple

import duckdb

from mmwatch import plugins
from mmwatch.analysis.outcomes import Outcome
from mmwatch.analysis.stats import equal_weight_rate, wilson
from mmwatch.registry import UnknownPluginError
from mmwatch.scoring.benchmark import Estimate, Metric, estimates, utility_score
from mmwatch.scoring.results import ItemResult
from mmwatch.types import AnswerFormat, SampleKind
from storage.metrics import BENIGN, HARMFUL, REFUSAL_ROLE, REFUSED, SUCCESS, UNSCORED, UTILITY
from storage.outcomes import SCORED_SQL, literal

ALL_ATTACKS = "*"


class SafetyMetric(StrEnum):
    ASR = "asr"  # by the benchmark's safety judge: a non-refusal rate where that judge detects refusal
    REFUSAL = "refusal rate"
    OVER_REFUSAL = "over-refusal"


# (model, benchmark, kind, attack, metric, judges, k, n, unscored) per attack, baseline defense
RATES = f"""
SELECT model_id, benchmark, kind, attack, {literal(SafetyMetric.ASR.value)} AS metric,
    string_agg(DISTINCT judge, ', ' ORDER BY judge) FILTER (outcome IN {SCORED_SQL}) AS judges,
    count(*) FILTER (outcome = {SUCCESS}) AS k, count(*) FILTER (outcome IN {SCORED_SQL}) AS n,
    count(*) FILTER (outcome = {UNSCORED}) AS unscored
FROM outcomes WHERE is_primary AND kind = {HARMFUL} AND defense_baseline GROUP BY ALL
UNION ALL
SELECT model_id, benchmark, kind, attack,
    CASE kind WHEN {HARMFUL} THEN {literal(SafetyMetric.REFUSAL.value)}
        ELSE {literal(SafetyMetric.OVER_REFUSAL.value)} END,
    string_agg(DISTINCT judge, ', ' ORDER BY judge) FILTER (outcome IN {SCORED_SQL}),
    count(*) FILTER (outcome = {REFUSED}), count(*) FILTER (outcome IN {SCORED_SQL}),
    count(*) FILTER (outcome = {UNSCORED})
FROM outcomes WHERE role = {REFUSAL_ROLE} AND defense_baseline
    AND (kind = {HARMFUL} OR (kind = {BENIGN} AND attack_baseline))  -- over-refusal: benign items as they are
GROUP BY ALL
ORDER BY ALL
"""

# The utility items as the benchmark scores see them: unattacked, baseline defense, primary judge.
UTILITY_ITEMS = f"""
SELECT o.model_id, o.benchmark, o.sample_id, o.probe_index, o.category, o.outcome, v.score, s.answer_key,
    s.reference, o.judge, o.judge_version, v.label IS NOT NULL AS judged,
    coalesce(trim(o.response_text), '') = '' AS empty
FROM outcomes o JOIN samples s USING (sample_id)
LEFT JOIN verdicts v ON v.cell_key = o.cell_key AND v.judge = o.judge AND v.judge_version = o.judge_version
WHERE o.is_primary AND o.kind = {UTILITY} AND o.attack_baseline AND o.defense_baseline
    AND o.outcome <> {literal(Outcome.ERROR.value)}
ORDER BY o.model_id, o.benchmark, o.sample_id, o.probe_index
"""

class UtilityItem(NamedTuple):
    """One row of UTILITY_ITEMS, its answer key read from JSON once."""

    model_id: str
    benchmark: str
    sample_id: str
    probe_index: int
    category: str | None
    outcome: str
    score: float | None
    answer_key: dict[str, Any]
    reference: str | None
    judge: str
    judge_version: int
    judged: bool
    empty: bool

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> UtilityItem:
        (model_id, benchmark, sample_id, probe_index, category, outcome, score, key, reference, judge, judge_version,
         judged, empty) = row
        parsed = json.loads(key) if isinstance(key, str) else key or {}
        return cls(model_id, benchmark, sample_id, probe_index, category, outcome, score, parsed, reference,
                   str(judge), judge_version, bool(judged), bool(empty))


COLUMNS = ("model_id", "benchmark", "kind", "attack", "metric", "value", "lo", "hi", "n", "unscored", "judge",
           "headline", "published_judge", "part")


def traits(benchmark: str, loaders: Mapping[str, str] | None = None) -> plugins.BenchmarkTraits:
    """A benchmark's traits, from its loader (`loaders`: benchmark -> loader where a config renamed its
    samples); one loaded through a generic loader (table, jsonl) has the defaults."""
    try:
        return plugins.benchmarks.info((loaders or {}).get(benchmark, benchmark)).traits
    except UnknownPluginError:
        return plugins.BenchmarkTraits()


def _counted(item: UtilityItem) -> bool:
    """Whether an item enters its benchmark's number: scored; or unscored on an empty answer, or by a
    rule that read the answer and found none in it (an answer out of format): those count as wrong,
    as the published scripts count them. An item with no verdict yet, one left unscored by a judge
    model (its call may have failed), or an open answer that a rule cannot grade says nothing about
    the answer: it is left out and counted as unscored."""
    if item.outcome != Outcome.UNSCORED.value:
        return True
    rule = not _uses_model(item.judge)
    if not item.judged or (rule and item.answer_key.get("format") == AnswerFormat.OPEN.value):
        return False  # no verdict, or a judge that cannot grade this kind of item at all
    return item.empty or rule


def _uses_model(judge: str) -> bool:
    try:
        return plugins.judges.info(judge).traits.uses_model
    except UnknownPluginError:
        return True  # a judge this code does not know: do not read its unscored verdicts as wrong answers


def _result(item: UtilityItem) -> ItemResult:
    correct = {Outcome.CORRECT.value: True, Outcome.WRONG.value: False}.get(item.outcome)
    score = item.score
    if correct is not None and score is None:
        score = float(correct)  # a right / wrong judge (exact match): its score is the label
    return ItemResult(item=f"{item.sample_id}#{item.probe_index}", correct=correct, group=item.answer_key.get("group"),
                      score=score if correct is not None else None, reference=item.reference, category=item.category)


def benchmark_rows(con: duckdb.DuckDBPyConnection, loaders: Mapping[str, str] | None = None) -> list[tuple[Any, ...]]:
    """Every row of `benchmark_scores`, from the `outcomes` table prepared on `con`."""
    out: list[tuple[Any, ...]] = []
    pooled: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    judges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for model_id, benchmark, kind, attack, metric, judge, k, n, unscored in con.execute(RATES).fetchall():
        published = traits(benchmark, loaders).published_judge
        rate = (k / n, *wilson(k, n)) if n else (None, None, None)
        out.append((model_id, benchmark, kind, attack, metric, *rate, n, unscored, judge, False, published, None))
        if metric == SafetyMetric.ASR.value:
            pooled[model_id, benchmark].append((k, n))
            if judge:  # string_agg's list of the attack's judges
                judges[model_id, benchmark].update(judge.split(", "))
    for (model_id, benchmark), strata in pooled.items():
        mean = equal_weight_rate(strata)
        if mean is not None:
            out.append((model_id, benchmark, SampleKind.HARMFUL.value, ALL_ATTACKS, SafetyMetric.ASR.value, *mean,
                        sum(n for _, n in strata), None, ", ".join(sorted(judges[model_id, benchmark])), True,
                        traits(benchmark, loaders).published_judge, None))
    items: dict[tuple[str, str], list[UtilityItem]] = defaultdict(list)
    for row in con.execute(UTILITY_ITEMS).fetchall():
        item = UtilityItem.of(row)
        items[item.model_id, item.benchmark].append(item)
    for (model_id, benchmark), found in items.items():
        results = [_result(i) for i in found if _counted(i)]
        unscored = sum(r.correct is None for r in results) + len(found) - len(results)
        judge = ", ".join(sorted({i.judge for i in found}))
        for e in estimates(traits(benchmark, loaders).utility_score, results):
            out.append((model_id, benchmark, SampleKind.UTILITY.value, None, e.metric.value, e.value, e.lo, e.hi,
                        e.n, unscored, judge, e.headline, None, e.part))
    return out


def model_utility(rows: list[tuple[Any, ...]]) -> dict[str, tuple[float, float, float]]:
    """model_id -> the utility score (value, lo, hi) from benchmark_scores rows. A revision without
    a number on some utility benchmark that another revision has (every item unscored) gets no
    score: a mean over fewer benchmarks would rank it on another mix."""
    heads: dict[str, dict[str, Estimate]] = defaultdict(dict)
    for model_id, benchmark, kind, _a, metric, value, lo, hi, n, _u, _j, is_headline, _p, _part in rows:
        if kind == SampleKind.UTILITY.value and is_headline and value is not None:
            heads[model_id][benchmark] = Estimate(Metric(metric), value, lo, hi, n, True)
    every = {b for found in heads.values() for b in found}
    return {m: score for m, found in heads.items()
            if set(found) == every and (score := utility_score(list(found.values()))) is not None}


def fill_benchmark_scores(con: duckdb.DuckDBPyConnection, schema: str = "snap",
                          loaders: Mapping[str, str] | None = None) -> int:
    """Write `benchmark_scores` and set each leaderboard row's utility to its utility score."""
    rows = benchmark_rows(con, loaders)
    if rows:
        con.executemany(f"INSERT INTO {schema}.benchmark_scores ({', '.join(COLUMNS)}) VALUES "
                        f"({', '.join('?' for _ in COLUMNS)})", rows)
    scores = model_utility(rows)
    con.execute(f"UPDATE {schema}.leaderboard SET utility = NULL, utility_lo = NULL, utility_hi = NULL")
    if scores:
        con.executemany(f"UPDATE {schema}.leaderboard SET utility = ?, utility_lo = ?, utility_hi = ? WHERE model_id = ?",
                        [[v, lo, hi, model_id] for model_id, (v, lo, hi) in scores.items()])
    return len(rows)

