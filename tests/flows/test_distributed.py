"""The nightly deployment on a real `prefect server` with process workers in two pools (gpu, cpu).

Units of the hf checkpoint go to the gpu pool and units of the reference models to the cpu pool;
the results equal an embedded run's cell for cell. A gpu worker killed with SIGKILL mid-unit
costs nothing: the next night ingests what the unit wrote and computes only the rest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from adapters.tiny import make_tiny_model
from prefect_servers import ROOT, kill_tree, prefect_cli, prefect_server, start_worker, stop

pytestmark = pytest.mark.slow


def write_config(tmp: Path, name: str, dispatch: str, defenses: str = "[{name: none}]", extra: str = "") -> Path:
    model = tmp / "models" / "tiny-llava" / "checkpoint-1"
    if not model.exists():
        make_tiny_model(model, arch="llava", seed=1)
    path = tmp / f"{name}.yaml"
    path.write_text(f"""
name: distributed-test
store: {{path: {tmp}/{name}/db.duckdb, artifacts: {tmp}/{name}/art, snapshot: {tmp}/{name}/snap.duckdb}}
models:
  - {{lineage: reference/refuse-all, adapter: reference, params: {{behaviour: refuse-all}}}}
  - {{lineage: reference/comply-all, adapter: reference, params: {{behaviour: comply-all}}}}
  - {{lineage: tiny/llava, revision: c1, adapter: hf, params: {{path: {model}}}}}
benchmarks:
  - {{name: mmwatch-mini, params: {{per_category: 1}}}}
attacks: [{{name: none}}, {{name: typography}}]
defenses: {defenses}
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
generation: {{max_new_tokens: 4, batch_size: 2}}
work: {{dispatch: {dispatch}, shard_size: 100, unit_timeout_s: 240{extra}}}
""")
    return path


def mmwatch(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mmwatch.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def stored(db: Path) -> tuple[list[str], list[tuple[str, str, str]], int]:
    with duckdb.connect(str(db), read_only=True) as con:
        keys = [r[0] for r in con.execute("SELECT cell_key FROM cells ORDER BY 1").fetchall()]
        verdicts = con.execute("SELECT cell_key, judge, label FROM verdicts ORDER BY 1, 2").fetchall()
        rows = con.execute("SELECT count(*) FROM cells").fetchone()[0]
    return keys, verdicts, rows


def embedded(tmp: Path) -> tuple[list[str], list[tuple[str, str, str]], int]:
    config = write_config(tmp, "embedded", "local")
    done = mmwatch({**os.environ, "HF_HUB_OFFLINE": "1", "PREFECT_API_URL": ""}, "run", "-c", str(config))
    assert done.returncode == 0, done.stderr[-3000:]
    return stored(tmp / "embedded" / "db.duckdb")


def unit_runs(env: dict[str, str]) -> list[dict[str, object]]:
    import urllib.request

    request = urllib.request.Request(f"{env['PREFECT_API_URL']}/flow_runs/filter", method="POST",
                                     data=json.dumps({"limit": 200}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as r:
        runs: list[dict[str, object]] = json.load(r)
    return [run for run in runs if "mmwatch-unit" in (run.get("tags") or [])]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("prefect")
    with prefect_server(home) as env:
        for pool in ("cpu", "gpu"):
            made = prefect_cli(env, "work-pool", "create", pool, "--type", "process")
            assert made.returncode == 0, made.stdout + made.stderr
        yield env


def deploy(env: dict[str, str], config: Path) -> None:
    done = mmwatch(env, "deploy", "--config", str(config))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    import urllib.request

    with urllib.request.urlopen(f"{env['PREFECT_API_URL']}/deployments/name/mmwatch-nightly/nightly", timeout=10) as r:
        nightly = json.load(r)
    assert nightly["parameters"] == {"config_path": str(config)}
    assert [s["schedule"]["cron"] for s in nightly["schedules"]] == ["0 3 * * *"]  # the config's schedule
    # the working folder is resolved on each worker when a run starts, not baked in here
    assert "{{ $MMWATCH_HOME }}" in json.dumps(nightly["pull_steps"])


def run_nightly(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return prefect_cli(env, "deployment", "run", "mmwatch-nightly/nightly", "--watch", "--watch-timeout", "500",
                       timeout=560)


def test_nightly_fans_units_out_to_two_pools_and_equals_the_embedded_run(server: dict[str, str],
                                                                       tmp_path: Path) -> None:
    expected_keys, expected_verdicts, _ = embedded(tmp_path)
    config = write_config(tmp_path, "distributed", "prefect")
    deploy(server, config)
    workers = [start_worker(pool, server, tmp_path / f"{pool}-worker.log") for pool in ("cpu", "gpu")]
    try:
        done = run_nightly(server)
        assert done.returncode == 0, done.stdout[-3000:] + (tmp_path / "cpu-worker.log").read_text()[-5000:]
    finally:
        for worker in workers:
            stop(worker)
    keys, verdicts, rows = stored(tmp_path / "distributed" / "db.duckdb")
    assert keys == expected_keys and rows == len(keys) > 0
    assert verdicts == expected_verdicts
    runs = unit_runs(server)
    pools = {str(r["work_pool_name"]) for r in runs if r["state_type"] == "COMPLETED"}
    assert pools >= {"cpu", "gpu"}
    with duckdb.connect(str(tmp_path / "distributed" / "db.duckdb"), read_only=True) as con:
        run = con.execute("SELECT status, cells_new FROM runs").fetchall()
        units = con.execute("SELECT count(DISTINCT unit_id) FROM ingested_shards").fetchone()[0]
    assert run == [("completed", len(keys))] and units == 3


def _parts(results: Path) -> int:
    return len(list(results.glob("*/*/_SUCCESS.json")))


def test_a_worker_killed_mid_unit_loses_and_duplicates_nothing(server: dict[str, str], tmp_path: Path) -> None:
    """SIGKILL of the gpu worker and its unit's process: its heartbeat stops, the orchestrator runs
    the unit again on the next gpu worker, which computes only the missing cells."""
    # ocr-filter reads every attack image (about half a second each): the gpu unit runs long enough to kill
    defenses = "[{name: none}, {name: ocr-filter}]"
    config = write_config(tmp_path, "distributed", "prefect", defenses,
                          extra=", unit_retries: 1, heartbeat_s: 1, unit_stale_s: 20, write_interval_s: 0")  # 20 s: a busy machine still beats
    deploy(server, config)
    db, results = tmp_path / "distributed" / "db.duckdb", tmp_path / "distributed" / "results"
    cpu = start_worker("cpu", server, tmp_path / "cpu-worker.log")
    gpu = start_worker("gpu", server, tmp_path / "gpu-worker.log")
    try:
        night = subprocess.Popen([sys.executable, "-m", "prefect", "deployment", "run", "mmwatch-nightly/nightly",
                                  "--watch", "--watch-timeout", "500"], env=server, cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while not any(r["work_pool_name"] == "gpu" and r["state_type"] == "RUNNING" for r in unit_runs(server)) \
                or _parts(results) < 2:
            assert time.monotonic() < deadline, "no gpu unit started writing"
            time.sleep(0.3)
        kill_tree(gpu)  # kill -9: the worker and the unit's process
        written_before = _parts(results)
        gpu = start_worker("gpu", server, tmp_path / "gpu-worker-2.log")
        out = night.communicate(timeout=400)[0].decode()
        assert night.returncode == 0, out[-3000:]
        again = run_nightly(server)  # the next night: nothing lost, so nothing to compute
        assert again.returncode == 0, again.stdout[-3000:]
    finally:
        for worker in (cpu, gpu):
            stop(worker)
    keys, verdicts, rows = stored(db)
    with duckdb.connect(str(db), read_only=True) as con:
        plan = con.execute("SELECT cell_key FROM plan_cells ORDER BY 1").fetchall()
        runs = con.execute("SELECT status, cells_new, message FROM runs ORDER BY started_at").fetchall()
        ingested = con.execute("SELECT sum(cells) FROM ingested_shards").fetchone()[0]
        answered = con.execute("SELECT count(*) FROM cells WHERE error IS NULL").fetchone()[0]
    assert keys == [k for (k,) in plan] and rows == len(keys)  # every planned cell, once
    assert len(verdicts) == answered == len(keys)  # one local verdict per answered cell (by its kind)
    assert [(r[0], r[1]) for r in runs] == [("completed", len(keys)), ("completed", 0)]
    assert "unfinished" not in runs[0][2]
    assert ingested == len(keys) and written_before >= 2  # each cell written to a shard once: none computed twice
    gpu_runs = sorted(str(r["state_type"]) for r in unit_runs(server) if r["work_pool_name"] == "gpu"
                      and r["parameters"]["unit"]["config"]["defenses"][-1]["name"] == "ocr-filter")
    assert gpu_runs == ["COMPLETED", "CRASHED"]  # the dead run, marked so, and its successor
