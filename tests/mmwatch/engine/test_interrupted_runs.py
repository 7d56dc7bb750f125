"""Interrupted runs, with real signals: the run row tells the truth, nothing is lost or duplicated.

`mmwatch run` evaluates an API model whose answers are slow (a loopback endpoint), and is stopped
while its units write shards (SIGINT, SIGTERM, SIGKILL) or while it publishes (SIGKILL). Then a
second run completes the matrix.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from fault_endpoint import Fault, FaultEndpoint, Scripted, fault_endpoint  # noqa: F401

SAMPLES = 24
SECRET = "sk-planted-interrupt-0123456789"

CONFIG = """
store: {{path: "{tmp}/it's \\"db\\".duckdb", artifacts: {tmp}/art, snapshot: "{tmp}/snap 'public'.duckdb"}}
models:
  - {{lineage: api/slow, adapter: openai, params: {{model: slow, base_url: "{url}", api_key_env: PLANTED_KEY,
      concurrency: 2, max_retries: 0, timeout_s: 30}}}}
benchmarks: [{{name: mmwatch-mini, limit: {samples}}}]
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
generation: {{batch_size: 2}}
canary: {{enabled: false}}  # these runs are about stopping, not about nightly re-tests
work: {{write_interval_s: 0.2}}
"""

# Makes the publish step hang once the snapshot file is half written, and says so in a marker file,
# so that a test can kill the process at that moment (loaded through PYTHONPATH in the child only).
HANG_IN_PUBLISH = """
import os, time
import storage.snapshot as snapshot
_copy = snapshot._copy
def _slow_copy(con, target, sql, params=None):
    _copy(con, target, sql, params)
    if target == "examples":
        open(os.environ["MMWATCH_TEST_PUBLISHING"], "w").close()
        time.sleep(120)
snapshot._copy = _slow_copy
"""


def start(tmp_path: Path, config: Path, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PREFECT_API_URL": "", "PREFECT_HOME": str(tmp_path / "prefect"), "PLANTED_KEY": SECRET,
           **(extra_env or {})}
    # SIGINT as a terminal gives it: a suite started in the background of a script inherits SIGINT
    # ignored, and Python then installs no KeyboardInterrupt handler, so the run would not stop
    return subprocess.Popen([sys.executable, "-m", "mmwatch.cli", "run", "-c", str(config)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_default_sigint)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for(what: Callable[[], bool], proc: subprocess.Popen[str], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not what():
        if proc.poll() is not None:
            out, errs = proc.communicate()
            raise AssertionError(f"the run ended (rc {proc.returncode}) before it was stopped: {errs[-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("timed out waiting for the run")
        time.sleep(0.02)


def shards_written(tmp_path: Path) -> bool:
    return any((tmp_path / "results").glob("*/*/_SUCCESS.json"))


def db_rows(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(tmp_path / "it's \"db\".duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def slow_config(tmp_path: Path, fault_endpoint: Callable[..., FaultEndpoint]) -> tuple[Path, FaultEndpoint]:
    server = fault_endpoint(Scripted([], then=Fault.SLOW), slow_s=0.6,  # ~7 s of answers: stopped mid-run
                            answer=lambda r: f"Sure. {SECRET} is what you sent me.")
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG.format(tmp=tmp_path, url=server.url, samples=SAMPLES))
    return config, server


def finish_and_check(tmp_path: Path, config: Path, server: FaultEndpoint, first_status: str) -> None:
    server.schedule = Scripted([])  # answers come at once now
    done = start(tmp_path, config)
    out, errs = done.communicate(timeout=300)
    assert done.returncode == 0, errs[-3000:]
    runs = db_rows(tmp_path, "SELECT status, cells_new, (SELECT count(*) FROM cells c WHERE c.run_id = r.run_id) "
                             "FROM runs r ORDER BY started_at")
    assert [r[0] for r in runs] == [first_status, "completed"], runs
    assert all(r[1] == r[2] for r in runs), runs  # each row counts the cells it stored
    assert runs[0][1] > 0 and runs[0][1] + runs[1][1] == SAMPLES  # cells_new of both runs make the matrix
    (total, distinct), = db_rows(tmp_path, "SELECT count(*), count(DISTINCT cell_key) FROM cells")
    assert total == distinct == SAMPLES
    assert not any(SECRET in str(row) for row in db_rows(tmp_path, "SELECT * FROM cells"))
    with duckdb.connect(str(tmp_path / "snap 'public'.duckdb"), read_only=True) as snap:
        assert [r[0] for r in snap.execute("SELECT status FROM runs ORDER BY started_at").fetchall()] == [
            first_status, "completed"]
    assert not list(tmp_path.glob(".snap*.tmp*"))  # a killed publish's temporary file is gone


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stopped_run_keeps_its_cells_and_says_interrupted(tmp_path: Path, slow_config: tuple[Path, FaultEndpoint],
                                                            signum: int, code: int) -> None:
    config, server = slow_config
    proc = start(tmp_path, config)
    wait_for(lambda: shards_written(tmp_path), proc)
    proc.send_signal(signum)
    out, errs = proc.communicate(timeout=120)
    assert proc.returncode == code, errs[-3000:]
    assert "Traceback" not in errs and "run is marked interrupted" in " ".join(errs.split())
    ((status, new, stored, message),) = db_rows(
        tmp_path, "SELECT status, cells_new, (SELECT count(*) FROM cells), message FROM runs")
    assert status == "interrupted" and 0 < new == stored < SAMPLES and signal.Signals(signum).name in message
    finish_and_check(tmp_path, config, server, "interrupted")


@pytest.mark.slow
def test_a_killed_run_is_found_interrupted_and_its_shards_are_kept(tmp_path: Path,
                                                                   slow_config: tuple[Path, FaultEndpoint]) -> None:
    config, server = slow_config
    proc = start(tmp_path, config)
    wait_for(lambda: shards_written(tmp_path), proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert db_rows(tmp_path, "SELECT status FROM runs") == [("running",)]  # until a later run looks
    finish_and_check(tmp_path, config, server, "interrupted")


@pytest.mark.slow
def test_a_run_killed_while_publishing_is_not_completed(tmp_path: Path,
                                                        slow_config: tuple[Path, FaultEndpoint]) -> None:
    config, server = slow_config
    server.schedule = Scripted([])
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(HANG_IN_PUBLISH)
    marker = tmp_path / "publishing"
    pythonpath = os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")])
    proc = start(tmp_path, config, {"PYTHONPATH": pythonpath, "MMWATCH_TEST_PUBLISHING": str(marker)})
    wait_for(marker.exists, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert list(tmp_path.glob(".snap*.tmp*"))  # the half-written snapshot, never renamed into place
    assert not (tmp_path / "snap 'public'.duckdb").exists()
    ((status, new),) = db_rows(tmp_path, "SELECT status, cells_new FROM runs")
    assert status == "running" and new == SAMPLES  # counted before publishing; never said completed
    done = start(tmp_path, config)
    out, errs = done.communicate(timeout=300)
    assert done.returncode == 0, errs[-3000:]
    runs = db_rows(tmp_path, "SELECT status, cells_new FROM runs ORDER BY started_at")
    assert runs == [("interrupted", SAMPLES), ("completed", 0)]
    assert not list(tmp_path.glob(".snap*.tmp*"))


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_sigterm_through_prefect_stops_its_temporary_server(tmp_path: Path,
                                                           slow_config: tuple[Path, FaultEndpoint]) -> None:
    from prefect_servers import descendants

    config, server = slow_config
    env = {**os.environ, "PREFECT_API_URL": "", "PREFECT_HOME": str(tmp_path / "prefect"), "PLANTED_KEY": SECRET}
    proc = subprocess.Popen([sys.executable, "-m", "mmwatch.cli", "run", "--prefect", "-c", str(config)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        wait_for(lambda: shards_written(tmp_path), proc, timeout_s=240)
        started = descendants(proc.pid)
        assert started  # the temporary Prefect server runs below the command
        proc.send_signal(signal.SIGTERM)
        out, errs = proc.communicate(timeout=120)
        assert proc.returncode == 143, errs[-3000:]
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in started if alive(pid)]
        assert db_rows(tmp_path, "SELECT status FROM runs") == [("interrupted",)]
    finally:
        for pid in [proc.pid, *descendants(proc.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
