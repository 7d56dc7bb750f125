"""A planted API key, echoed back by the endpoint everywhere it can be (answers, error bodies, a
model id, a judge model's rationale), is found nowhere after a run through Prefect: not in the
store, the shards, the snapshot, the command's output, or Prefect's own database and logs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from mmwatch.engine.canary import night_of
from fault_endpoint import Fault, FaultEndpoint, Received, Seeded, fault_endpoint  # noqa: F401

SECRET = "sk-planted-leaktest-7f3a9c1e5b"

CONFIG = """
store: {{path: {tmp}/db.duckdb, artifacts: {tmp}/art, snapshot: {tmp}/snap.duckdb}}
watch:
  - {{source: openai-endpoint, base_url: "{url}", api_key_env: PLANTED_KEY, lineage: api/echo,
      params: {{max_retries: 1, timeout_s: 10, concurrency: 4}}}}
benchmarks: [{{name: mmwatch-mini, limit: 16}}]
judges:
  - {{name: refusal-keywords}}
  - {{name: exact-match}}
  - {{name: llm-safety, params: {{judge_model: {{adapter: openai, params: {{model: judge, base_url: "{url}",
      api_key_env: PLANTED_KEY, max_retries: 0}}}}}}}}
leaderboard: {{show_responses: true}}
"""


def echo(request: Received) -> str:
    return f"Sure. You sent me {request.key} and I will repeat {request.authorization}."


def leaks_in(root: Path, secret: str) -> list[str]:
    """Every file under `root` that holds `secret`: DuckDB and Parquet by their values (they compress
    strings), anything else by its bytes."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix == ".duckdb":
            with duckdb.connect(str(path), read_only=True) as con:
                tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
                text = " ".join(str(con.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)
        elif path.suffix == ".parquet":
            text = str(pq.read_table(path).to_pylist())
        else:
            text = path.read_bytes().decode("utf-8", "replace")
        if secret in text:
            found.append(str(path.relative_to(root)))
    return found


@pytest.mark.slow
def test_a_planted_key_echoed_everywhere_is_found_nowhere(tmp_path: Path,
                                                          fault_endpoint: Callable[..., FaultEndpoint]) -> None:
    faults = (Fault.ECHO_KEY, Fault.ECHO_KEY_ERROR, Fault.UNAUTHORIZED, Fault.HTTP_500)
    server = fault_endpoint(Seeded(7, faults, ok_rate=0.3), models=["echo-model", "leak-{key}"], answer=echo)
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG.format(tmp=tmp_path, url=server.url))
    env = {**os.environ, "PREFECT_API_URL": "", "PREFECT_HOME": str(tmp_path / "prefect"), "PLANTED_KEY": SECRET}
    done = subprocess.run([sys.executable, "-m", "mmwatch.cli", "run", "--prefect", "-c", str(config)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    assert any(r.key == SECRET for r in server.chat_requests())  # the key was really sent and echoed
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        (run_id,), = con.execute("SELECT run_id FROM runs").fetchall()
        night = night_of(run_id)
        assert [m for (m,) in con.execute("SELECT model_id FROM models ORDER BY model_id").fetchall()] == [
            "api/echo@echo-model", f"canary:api/echo@echo-model@{night}"]  # the leaking id was refused
        (answered, errors), = con.execute("SELECT count(*) FILTER (WHERE error IS NULL), count(error) FROM cells"
                                          ).fetchall()
        assert answered > 0 and errors > 0  # echoes came back both as answers and as error bodies
        messages = [r[0] for r in con.execute("SELECT error FROM cells WHERE error IS NOT NULL").fetchall()]
        assert all(m.startswith("probe ") and " failed after " in m for m in messages), messages[:3]
        (judged,), = con.execute("SELECT count(*) FROM verdicts WHERE judge = 'llm-safety'").fetchall()
        assert judged > 0  # the judge model's answers (echoing the key) became rationales
    assert (tmp_path / "prefect" / "prefect.db").exists()  # Prefect's own database is searched too
    assert SECRET not in done.stdout + done.stderr
    assert "refused" in " ".join(done.stderr.split()) and "PLANTED_KEY" in done.stderr
    assert leaks_in(tmp_path, SECRET) == []


def test_the_leak_finder_sees_a_key_inside_duckdb_parquet_and_plain_files(tmp_path: Path) -> None:
    import pyarrow as pa

    with duckdb.connect(str(tmp_path / "a.duckdb")) as con:
        con.execute("CREATE TABLE t AS SELECT 'x' || i AS v FROM range(5000) r(i)")
        con.execute("INSERT INTO t VALUES (?)", [f"answer {SECRET}"])
    pq.write_table(pa.table({"v": [f"e {SECRET}"] * 3}), tmp_path / "b.parquet", compression="zstd")
    (tmp_path / "c.log").write_text(f"log {SECRET}")
    (tmp_path / "clean.txt").write_text("nothing")
    assert leaks_in(tmp_path, SECRET) == ["a.duckdb", "b.parquet", "c.log"]
