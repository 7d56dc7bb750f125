"""004: cells carry their spec hashes and adapter identity; plans name the cells a config stands for;
alerts name the judge behind them.

Cells stored before the adapter was part of the key are re-keyed here with the adapter
configuration their model was first recorded with (models.adapter_params), through the same
function the planner uses, so an upgraded store reuses their answers instead of computing them
again. Verdicts and human labels follow their cells. Older alerts keep their ids; their new columns
are NULL, so no current plan claims them.

Not reused: cells of plugins whose recorded parameters grew in the same release (`figstep-pro`,
`ocr-filter` and `output-guard` now record `lexicon_version`). Their spec, hence their probe key,
changed, and a probe key cannot be recomputed from stored rows (it hashes the sample's content),
so those cells are computed again once; the old ones stay stored.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from mmwatch.engine.identity import adapter_identity, with_adapter
from mmwatch.types import stable_hash

SCHEMA = """
ALTER TABLE cells ADD COLUMN attack_hash VARCHAR;
ALTER TABLE cells ADD COLUMN defense_hash VARCHAR;
ALTER TABLE cells ADD COLUMN adapter_spec JSON;
ALTER TABLE runs ADD COLUMN plan_id VARCHAR;
ALTER TABLE alerts ADD COLUMN attack_hash VARCHAR;
ALTER TABLE alerts ADD COLUMN defense_hash VARCHAR;
ALTER TABLE alerts ADD COLUMN judge VARCHAR;
ALTER TABLE alerts ADD COLUMN judge_version INTEGER;
CREATE TABLE plans (
    plan_id     VARCHAR PRIMARY KEY,         -- hash of the plan's cell keys and specs
    config_hash VARCHAR NOT NULL,
    cells       INTEGER NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE TABLE plan_specs (                    -- the attacks and defenses of a plan, for labels and baselines
    plan_id   VARCHAR NOT NULL,
    kind      VARCHAR NOT NULL,              -- attack | defense
    spec_hash VARCHAR NOT NULL,
    label     VARCHAR NOT NULL,
    baseline  BOOLEAN NOT NULL,              -- attack `none` / defense `none`: what others compare with
    targeted  BOOLEAN NOT NULL,              -- an attack whose probes may carry a target string
    PRIMARY KEY (plan_id, kind, spec_hash)
);
CREATE TABLE plan_cells (
    plan_id  VARCHAR NOT NULL,
    cell_key VARCHAR NOT NULL,
    PRIMARY KEY (plan_id, cell_key)
);
"""


def _identity(adapter: str, params_json: str) -> dict[str, Any]:
    params = json.loads(params_json)
    try:
        return adapter_identity(adapter, params)
    except (KeyError, ValueError):  # an adapter this code no longer knows: keep what was recorded
        return {"name": adapter, "version": None, "params": params}


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA)
    for column in ("attack", "defense"):
        specs = [r[0] for r in con.execute(f"SELECT DISTINCT {column}_spec FROM cells").fetchall()]
        if specs:
            con.executemany(f"UPDATE cells SET {column}_hash = ? WHERE {column}_spec = ?",
                            [[stable_hash(json.loads(spec)), spec] for spec in specs])
    identities = {model_id: _identity(adapter, params) for model_id, adapter, params
                  in con.execute("SELECT model_id, adapter, adapter_params FROM models").fetchall()}
    rows = []
    for key, model_id in con.execute("SELECT cell_key, model_id FROM cells").fetchall():
        identity = identities.get(model_id, {"name": None, "version": None, "params": {}})
        rows.append((key, with_adapter(key, identity), json.dumps(identity, sort_keys=True)))
    if not rows:
        return
    con.execute("CREATE TEMP TABLE rekey (old VARCHAR, new VARCHAR, spec VARCHAR)")
    con.executemany("INSERT INTO rekey VALUES (?, ?, ?)", rows)
    con.execute("UPDATE cells SET cell_key = r.new, adapter_spec = r.spec FROM rekey r WHERE cells.cell_key = r.old")
    con.execute("UPDATE verdicts SET cell_key = r.new FROM rekey r WHERE verdicts.cell_key = r.old")
    con.execute("UPDATE human_labels SET cell_key = r.new FROM rekey r WHERE human_labels.cell_key = r.old")
    con.execute("DROP TABLE rekey")
