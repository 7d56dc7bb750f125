"""The run that the interrupted-runs family stops (interrupts.py, publishing.py): its size and config."""

from __future__ import annotations

import json
from pathlib import Path

from .common import KEY_ENV

STOP_CELLS, STOP_SLOW_S, STOP_BATCH, STOP_CONCURRENCY = 30, 0.5, 4, 1  # ~15 s of evaluation


def write_config(folder: Path, url: str) -> Path:
    """The config of a run of STOP_CELLS cells against the endpoint at `url`, one request at a time."""
    config = folder / "c.yaml"
    config.write_text(json.dumps({
        "store": {"path": str(folder / "db.duckdb"), "artifacts": str(folder / "art"),
                  "snapshot": str(folder / "snap.duckdb")},
        "models": [{"lineage": "api/slow", "revision": "v1", "adapter": "openai",
                    "params": {"model": "m", "base_url": url, "api_key_env": KEY_ENV, "max_retries": 0,
                               "concurrency": STOP_CONCURRENCY, "timeout_s": 30}}],
        "benchmarks": [{"name": "mmwatch-mini", "limit": STOP_CELLS}],
        "judges": [{"name": "refusal-keywords"}, {"name": "exact-match"}],
        "canary": {"enabled": False},
        "generation": {"batch_size": STOP_BATCH},
        "work": {"write_interval_s": 0},
    }))
    return config
