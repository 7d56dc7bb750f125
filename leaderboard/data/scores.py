"""Each benchmark's own numbers (snapshot table benchmark_scores, written by storage/benchmark_scores.py).

A snapshot older than format 6 has no such table: it reads as no rows, and the Benchmarks page says
to republish, rather than the board failing.
"""

from __future__ import annotations

import pandas as pd

from leaderboard.data.source import NAMES, PathArg, opened, query

_COLUMNS = ["model", "model_id", "benchmark", "kind", "attack", "metric", "value", "lo", "hi", "n", "unscored",
            "judge", "headline", "published_judge", "part"]


def benchmark_scores(*, headline_only: bool = False, path: PathArg = None) -> pd.DataFrame:
    """Rows of model x benchmark x metric, each benchmark's headline first, by benchmark then model name."""
    with opened(path) as con:
        found = query("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'benchmark_scores'",
                      con=con)
        if not int(found["n"].iloc[0]):
            return pd.DataFrame(columns=_COLUMNS)
        return query(
            f"""WITH {NAMES}
            SELECT n.model, b.* FROM benchmark_scores b JOIN names n USING (model_id)
            WHERE b.headline OR NOT ?
            ORDER BY b.kind, b.benchmark, NOT b.headline, b.part NULLS FIRST, b.metric, b.attack NULLS FIRST, n.model""",
            [headline_only], con=con,
        )
