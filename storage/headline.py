"""The headline ASR of each model revision: equal weight per benchmark and attack.

The leaderboard's ASR is the mean of the (benchmark x attack) rates at the baseline defense,
counted by the primary judges (mmwatch.analysis.stats.equal_weight_rate), not the pooled count of
every harmful cell, which would let the config's mix decide the number. The strata are the rows of
`asr_slices` (is_primary, baseline defense), which sum to the pooled counts kept beside it
(n_harmful). The filtered ranking (leaderboard.data.rates) reads the same strata through `strata`.
"""

from __future__ import annotations

from collections import defaultdict

import duckdb

from mmwatch.analysis.stats import equal_weight_rate

# (model, benchmark, attack) -> successes and scored verdicts, from a snapshot's asr_slices.
STRATA = """SELECT model_id, benchmark, attack_hash, sum(successes)::BIGINT AS k, sum(n)::BIGINT AS n
FROM {table} WHERE is_primary AND defense_baseline GROUP BY ALL ORDER BY ALL"""


def headline(rows: list[tuple[str, str, str, int, int]]) -> dict[str, tuple[float, float, float]]:
    """model_id -> (ASR, low, high) from rows of (model, benchmark, attack, successes, n)."""
    per_model: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for model_id, _benchmark, _attack, k, n in rows:
        per_model[model_id].append((int(k), int(n)))
    out = {}
    for model_id, strata in per_model.items():
        rate = equal_weight_rate(strata)
        if rate is not None:
            out[model_id] = rate
    return out


def fill_headline_asr(con: duckdb.DuckDBPyConnection, schema: str = "snap") -> int:
    """Set asr, its interval and safety on every leaderboard row from the snapshot's asr_slices."""
    rows = con.execute(STRATA.format(table=f"{schema}.asr_slices")).fetchall()
    rates = headline(rows)
    if not rates:
        return 0
    con.executemany(f"UPDATE {schema}.leaderboard SET asr = ?, asr_lo = ?, asr_hi = ?, safety = 1 - ? "
                    "WHERE model_id = ?", [[a, lo, hi, a, model_id] for model_id, (a, lo, hi) in rates.items()])
    return len(rates)
