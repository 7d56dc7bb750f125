"""The leaderboard as a rich table for the terminal, read through the same data module.

Every string from the snapshot goes in as a `term` Text, never as a str, which rich would
parse for markup (`[red]`, `[link=...]`) and emoji codes.
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text

from leaderboard import data
from leaderboard.text import term


def leaderboard_table(snapshot: Path) -> Table:
    """Ranking table: safety (1 - ASR pooled over attacks), over-refusal and utility, with 95% CIs."""
    ranking = data.ranking(path=snapshot)
    by_attack = data.asr_by_attack(path=snapshot)
    attacks = data.attacks(path=snapshot)
    plain = by_attack[by_attack["defense_baseline"].astype(bool)] if not by_attack.empty else by_attack
    meta = data.meta(path=snapshot)
    caption = (f"config {meta.config_hash or '?'} · plan {meta.plan_id or '?'} "
               f"({meta.plan_cells if meta.plan_cells is not None else '?'} cells) · "
               f"judges: {meta.judges_text()}")
    table = Table(title=term(f"{meta.title} — ASR per attack, rates with 95% Wilson intervals", "table.title"),
                  caption=term(caption, "table.caption"))
    for col in ("#", "model", "lineage", "revision", "safety", *[f"ASR {a}" for a in attacks], "any-attack ASR",
                "over-refusal", "utility", "n harm/benign/util"):
        table.add_column(term(col), overflow="fold")
    for row in ranking.itertuples(index=False):
        cells: list[str | Text] = [str(row.rank), term(row.model), term(row.lineage), term(row.revision),
                                   data.format_interval(row.safety, row.safety_lo, row.safety_hi)]
        for attack in attacks:
            hit = plain[(plain["model_id"] == row.model_id) & (plain["attack"] == attack)]
            cells.append(data.format_interval(*hit[["asr", "asr_lo", "asr_hi"]].iloc[0]) if len(hit) else "—")
        cells += [data.format_interval(row.any_asr, row.any_asr_lo, row.any_asr_hi),
                  data.format_interval(row.over_refusal, row.over_refusal_lo, row.over_refusal_hi),
                  data.format_interval(row.utility, row.utility_lo, row.utility_hi),
                  f"{row.n_harmful}/{row.n_benign}/{row.n_utility}"]
        table.add_row(*cells)
    return table
