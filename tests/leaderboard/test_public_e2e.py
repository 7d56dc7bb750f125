"""No response to a harmful item leaves the operator's hands: a real cycle, its public snapshot, the
static site and the table export searched for a known answer (and a defense's draft of it).

`reference/comply-all` answers every harmful request with the same placeholder (COMPLIANCE); the
run holds harmful items only, so that text must appear nowhere public, while the operator snapshot,
built by the same cycle, holds it (the search can fail).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from adapters.reference import COMPLIANCE
from leaderboard.data.export import ExportFormat, export_tables
from leaderboard.site.build import build_site
from mmwatch.config import load_config
from mmwatch.engine.cycle import run_cycle
from storage.store import DuckDBStore

CONFIG = """
name: leak-check
store: {{path: {tmp}/db.duckdb, artifacts: {tmp}/art, snapshot: {tmp}/public.duckdb}}
models:
  - {{lineage: reference/comply-all, adapter: reference, params: {{behaviour: comply-all}}}}
  - {{lineage: reference/refuse-all, adapter: reference, params: {{behaviour: refuse-all}}}}
benchmarks: [{{name: mmwatch-mini, limit: 6, params: {{kinds: [harmful]}}}}]
attacks: [{{name: none}}, {{name: figstep}}]
defenses: [{{name: none}}, {{name: self-moderation}}]
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
generation: {{max_new_tokens: 24}}
leaderboard: {{operator_snapshot: {tmp}/operator.duckdb}}
"""


def _texts(snapshot: Path) -> str:
    """Every text value of every table of a snapshot, joined."""
    out = []
    with duckdb.connect(str(snapshot), read_only=True) as con:
        columns = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                              "WHERE data_type IN ('VARCHAR', 'JSON') OR data_type LIKE 'VARCHAR%'").fetchall()
        for table, column in columns:
            out += [str(v) for (v,) in con.execute(f'SELECT "{column}" FROM "{table}"').fetchall() if v is not None]
    return "\n".join(out)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("leak")
    (tmp / "run.yaml").write_text(CONFIG.format(tmp=tmp))
    config = load_config(tmp / "run.yaml")
    with DuckDBStore(config.store.path, config.store.artifacts) as store:
        run_cycle(config, store)
    return tmp


def test_operator_snapshot_holds_the_answers_and_drafts(published: Path) -> None:
    texts = _texts(published / "operator.duckdb")
    assert COMPLIANCE in texts
    with duckdb.connect(str(published / "operator.duckdb"), read_only=True) as con:
        drafts = con.execute("SELECT count(*) FROM examples WHERE defense = 'self-moderation' "
                             "AND defense_steps IS NOT NULL").fetchone()
    assert drafts and drafts[0] > 0  # comply-all's drafts, which the review turned into refusals


def test_public_snapshot_site_and_export_hold_no_harmful_answer(published: Path) -> None:
    public = published / "public.duckdb"
    assert COMPLIANCE not in _texts(public)
    site = published / "site"
    build_site(site, path=public)
    export_tables(published / "csv", ExportFormat.CSV, path=public)
    export_tables(published / "parquet", ExportFormat.PARQUET, path=public)
    files = [f for folder in ("site", "csv", "parquet") for f in (published / folder).rglob("*") if f.is_file()]
    assert any(f.suffix == ".html" for f in files) and any(f.suffix == ".csv" for f in files)
    needle = COMPLIANCE.encode()
    leaked = [str(f) for f in files if needle in f.read_bytes()]
    assert not leaked
    # parquet compresses: read the tables back as text too
    import pandas as pd

    for table in [*(published / "parquet").glob("*.parquet"), *(published / "site").rglob("*.parquet")]:
        assert COMPLIANCE not in pd.read_parquet(table).astype(str).to_string(), table.name
