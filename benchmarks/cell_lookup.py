"""How fast the planner subtracts stored cells: one set query vs a query per cell (the baseline).

Cost must grow with new cells only, so the lookup of what is stored must stay cheap as the
store grows. Prints both timings and the speed-up; exits non-zero under the target.

    python benchmarks/cell_lookup.py [--cells 20000] [--target 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from storage.store import DuckDBStore


def fill(store: DuckDBStore, n: int) -> list[str]:
    keys = [f"{i:032x}" for i in range(n)]
    store.con.execute(  # by column name: the cells table gains columns as the schema migrates
        "INSERT INTO cells (cell_key, run_id, model_id, sample_id, probe_index, attack, attack_version, attack_spec, "
        "attack_label, defense, defense_version, defense_spec, defense_label, generation, seed, probe_images, "
        "response_text, created_at) SELECT k, 'r', 'm', 's', 0, 'none', 1, '{}', 'none', 'none', 1, '{}', 'none', "
        "'{}', 0, [], 'x', now() FROM (SELECT unnest(?) AS k)",
        [keys[: n // 2]],
    )
    return keys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=20000)
    parser.add_argument("--target", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, DuckDBStore(Path(tmp) / "b.duckdb", Path(tmp) / "a") as store:
        keys = fill(store, args.cells)
        t0 = time.perf_counter()
        found = store.existing_cell_keys(keys)
        t_set = time.perf_counter() - t0
        sample = keys[:: max(1, len(keys) // 2000)]  # the per-key baseline on a sample, scaled up
        t0 = time.perf_counter()
        hits = sum(bool(store.con.execute("SELECT 1 FROM cells WHERE cell_key = ?", [k]).fetchone()) for k in sample)
        t_each = (time.perf_counter() - t0) * len(keys) / len(sample)
    assert len(found) == args.cells // 2 and hits > 0
    ratio = t_each / t_set
    print(f"cells={args.cells} stored={len(found)}  set query {t_set * 1000:.1f} ms  "
          f"per-key baseline {t_each * 1000:.0f} ms (extrapolated)  speed-up {ratio:.0f}x (target {args.target:.0f}x)")
    return 0 if ratio >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
