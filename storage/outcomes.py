"""mmwatch.analysis.outcomes as SQL: the `outcomes` table, one row per (plan cell, judge role).

Metrics, regressions and the snapshot's per-item rows all select from it, so what counts as a
success is decided once. The SQL is generated from the core's tables (label -> outcome, role ->
sample kinds, primary-role order, each role's judge, a benchmark's own judge), never typed a second
time; and the Wilson interval is the core's own `wilson`, registered as a SQL function, so it too
is written once.

Columns: cell_key, model_id, sample_id, probe_index, error, probe_text, response_text, targeted,
benchmark, kind, category, attack_hash, attack, attack_baseline, attack_targeted, defense_hash, defense,
defense_baseline, role, judge, judge_version, verdict (the label), rationale, outcome, is_primary.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from mmwatch.analysis.outcomes import LABEL_OUTCOMES, PRIMARY_ORDER, ROLE_KINDS, SCORED, JudgeRoles, Outcome
from mmwatch.analysis.stats import wilson
from mmwatch.records import ModelSource, SpecKind


def literal(value: str) -> str:
    """A SQL string literal of one of our own enum values (quotes doubled, should one ever hold one)."""
    return "'" + value.replace("'", "''") + "'"


def in_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(literal(v) for v in sorted(values)) + ")"


SCORED_SQL = in_list(o.value for o in SCORED)


def _primary_case() -> str:
    arms = []
    for role in PRIMARY_ORDER:
        kinds = ROLE_KINDS[role]
        test = "targeted" if kinds is None else f"kind IN {in_list(k.value for k in kinds)}"
        arms.append(f"WHEN {test} THEN {literal(role.value)}")
    return "CASE " + " ".join(arms) + " END"


_NO_CANARIES = (f" AND c.model_id NOT IN (SELECT model_id FROM models WHERE source = "
                f"{literal(ModelSource.CANARY.value)})")


def _benchmark_judges(roles: JudgeRoles) -> str:
    """The benchmarks' own judges as rows (benchmark, role, judge, judge_version); none: an empty table."""
    rows = [f"SELECT {literal(own.benchmark)}, {literal(own.role.value)}, {literal(own.judge.name)}, "
            f"{own.judge.version}" for own in roles.by_benchmark]
    return " UNION ALL ".join(rows) or "SELECT NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR, NULL::INTEGER WHERE false"


def outcomes_sql(roles: JudgeRoles, canaries: bool = False) -> str:
    role_judges = ", ".join(f"({literal(r.value)}, {literal(roles.of(r).name)}, {roles.of(r).version})"
                            for r in PRIMARY_ORDER)
    label_outcomes = ", ".join(f"({literal(label.value)}, {literal(o.value)})" for label, o in LABEL_OUTCOMES.items())
    role_kinds = ", ".join(f"({literal(role.value)}, {literal(kind.value)})"
                           for role, kinds in ROLE_KINDS.items() if kinds is not None for kind in sorted(kinds))
    target_roles = [role for role, kinds in ROLE_KINDS.items() if kinds is None]
    targeted = "".join(f"\n    UNION ALL SELECT b.*, {literal(r.value)} AS role FROM base b WHERE b.targeted"
                       for r in target_roles)
    return f"""
CREATE OR REPLACE TEMP TABLE outcomes AS
WITH run_judge(role, judge, judge_version) AS (VALUES {role_judges}),
benchmark_judge(benchmark, role, judge, judge_version) AS ({_benchmark_judges(roles)}),
label_outcome(label, outcome) AS (VALUES {label_outcomes}),
role_kind(role, kind) AS (VALUES {role_kinds}),
base AS (
    SELECT c.cell_key, c.model_id, c.sample_id, c.probe_index, c.error, c.probe_text, c.response_text,
        c.probe_target IS NOT NULL AS targeted, s.benchmark, s.kind, s.category,
        c.attack_hash, a.label AS attack, a.baseline AS attack_baseline, a.targeted AS attack_targeted,
        c.defense_hash, d.label AS defense, d.baseline AS defense_baseline
    FROM plan_cells p JOIN cells c USING (cell_key) JOIN samples s USING (sample_id)
    JOIN plan_specs a ON a.plan_id = p.plan_id AND a.kind = {literal(SpecKind.ATTACK.value)}
        AND a.spec_hash = c.attack_hash
    JOIN plan_specs d ON d.plan_id = p.plan_id AND d.kind = {literal(SpecKind.DEFENSE.value)}
        AND d.spec_hash = c.defense_hash
    WHERE p.plan_id = $plan{"" if canaries else _NO_CANARIES}
), judged AS (
    SELECT b.*, r.role FROM base b JOIN role_kind r ON r.kind = b.kind{targeted}
), role_judge AS (  -- each (benchmark, role)'s judge: the benchmark's own where it names one
    SELECT j.*, coalesce(bj.judge, rj.judge) AS judge, coalesce(bj.judge_version, rj.judge_version) AS judge_version
    FROM judged j JOIN run_judge rj USING (role)
    LEFT JOIN benchmark_judge bj ON bj.benchmark = j.benchmark AND bj.role = j.role
)
SELECT j.*, v.label AS verdict, v.rationale,
    CASE WHEN j.error IS NOT NULL THEN {literal(Outcome.ERROR.value)}
         ELSE coalesce(lo.outcome, {literal(Outcome.UNSCORED.value)}) END AS outcome,
    j.role = {_primary_case()} AS is_primary
FROM role_judge j
LEFT JOIN verdicts v ON v.cell_key = j.cell_key AND v.judge = j.judge AND v.judge_version = j.judge_version
LEFT JOIN label_outcome lo ON lo.label = v.label
"""


def _wilson_lo(k: int, n: int) -> float:
    return wilson(int(k), int(n))[0]


def _wilson_hi(k: int, n: int) -> float:
    return wilson(int(k), int(n))[1]


def register_functions(con: duckdb.DuckDBPyConnection) -> None:
    """wilson_lo(k, n), wilson_hi(k, n) from mmwatch.analysis.stats; rate(k, n) is NULL when n = 0.

    DuckDB registers functions only while no result is pending, so one is drained first.
    """
    con.execute("SELECT 1").fetchall()
    for name, fn in (("wilson_lo", _wilson_lo), ("wilson_hi", _wilson_hi)):
        try:
            con.remove_function(name)
        except duckdb.InvalidInputException:
            pass  # not registered on this connection yet
        con.create_function(name, fn, ["BIGINT", "BIGINT"], "DOUBLE")
    con.execute("CREATE OR REPLACE TEMP MACRO rate(k, n) AS CASE WHEN n = 0 THEN NULL ELSE k::DOUBLE / n END")


def prepare(con: duckdb.DuckDBPyConnection, plan_id: str, roles: JudgeRoles, canaries: bool = False) -> None:
    """Create the `outcomes` table of one plan on this connection (functions registered first).
    Canary revisions (nightly re-tests of API models) are left out unless asked for: the board ranks
    models, not nights; the regression watch reads them."""
    con.execute(outcomes_sql(roles, canaries), {"plan": plan_id})
