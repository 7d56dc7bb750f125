"""kill -9 of the orchestrator at a step boundary: the rerun loses and duplicates nothing.

The cycle runs in a child process whose step runner kills it with SIGKILL when a given step
begins (no cleanup at all, as a lost machine). The next cycle marks the dead run interrupted,
ingests what the dead one had written (shards, or rows already in the store) and publishes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from mmwatch.config import load_config
from mmwatch.engine.cycle import run_cycle
from storage.store import DuckDBStore

CONFIG = """
store: {{path: {tmp}/db.duckdb, artifacts: {tmp}/art, snapshot: {tmp}/snap.duckdb}}
models:
  - {{lineage: reference/comply-all, adapter: reference, params: {{behaviour: comply-all}}}}
  - {{lineage: reference/refuse-all, adapter: reference, params: {{behaviour: refuse-all}}}}
benchmarks: [{{name: mmwatch-mini, limit: 12}}]
attacks: [{{name: none}}, {{name: typography}}]
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
generation: {{max_new_tokens: 8, batch_size: 4}}
work: {{shard_size: 10, write_interval_s: 0}}
"""

KILLED_AT = """
import os, signal, sys
from mmwatch.config import load_config
from mmwatch.engine.cycle import run_cycle
from storage.store import DuckDBStore

config = load_config(sys.argv[1])

def step(name, fn, *args, **kwargs):
    if name == sys.argv[2]:
        os.kill(os.getpid(), signal.SIGKILL)
    return fn(*args, **kwargs)

with DuckDBStore(config.store.path, config.store.artifacts) as store:
    run_cycle(config, store, step=step)
"""


@pytest.mark.parametrize("step", ["ingest", "judge", "publish"])
def test_a_killed_orchestrator_is_rerun_with_nothing_lost_or_twice(tmp_path: Path, step: str) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(CONFIG.format(tmp=tmp_path))
    killed = subprocess.run([sys.executable, "-c", KILLED_AT, str(path), step], capture_output=True, timeout=300)
    assert killed.returncode == -9
    results = tmp_path / "results"
    assert len(list(results.glob("*/*/_SUCCESS.json"))) >= 4  # the units had written their shards

    config = load_config(path)
    with DuckDBStore(config.store.path, config.store.artifacts) as store:
        report = run_cycle(config, store)
    # nothing is computed again: the dead run's shards (ingested now, or before it died) hold every cell
    assert report.units == 0 and report.cells_stored_before == report.cells_total > 0
    assert report.cells_new == (report.cells_total if step == "ingest" else 0)
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        cells, distinct = con.execute("SELECT count(*), count(DISTINCT cell_key) FROM cells").fetchall()[0]
        verdicts, distinct_verdicts = con.execute(
            "SELECT count(*), count(DISTINCT (cell_key, judge, judge_version)) FROM verdicts").fetchall()[0]
        runs = con.execute("SELECT status FROM runs ORDER BY started_at").fetchall()
    assert cells == distinct == report.cells_total and verdicts == distinct_verdicts > 0
    assert runs == [("interrupted",), ("completed",)]
    with duckdb.connect(str(tmp_path / "snap.duckdb"), read_only=True) as con:
        board = dict(con.execute("SELECT label, asr FROM leaderboard").fetchall())
    assert board == {"comply-all": 1.0, "refuse-all": 0.0}
