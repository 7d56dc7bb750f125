"""Family 5, interrupted runs, the fourth and fifth stops: SIGKILL while `mmwatch run` publishes its snapshot.

A run is killed while it writes the snapshot, then the next run is killed at the same moment,
then a third runs to the end. To hit that moment every time, the killed runs start with a
`sitecustomize.py` on PYTHONPATH (as tests/mmwatch/engine/test_interrupted_runs.py does) that
wraps `storage.snapshot._copy`: once the last table (`examples`) is copied into the temporary
file it writes a marker file and sleeps, and the kill comes when the marker appears.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

from .common import (PYTHON, SECRET, Outcome, check, child_env, finish_child, mmwatch_run, secret_in_tables, short,
                     start_child)
from .endpoint import Fault, FaultEndpoint, Scripted
from .stopped_run import STOP_CELLS, write_config

MARKER_ENV = "MMWATCH_RELIABILITY_PUBLISHING"
HANG_IN_PUBLISH = f"""
import os, time
import storage.snapshot as snapshot
_copy = snapshot._copy
def _hanging_copy(con, target, sql, params=None):
    _copy(con, target, sql, params)
    if target == "examples":
        open(os.environ[{MARKER_ENV!r}], "w").close()
        time.sleep(120)
snapshot._copy = _hanging_copy
"""
KILLS = 2  # runs killed while publishing, one after the other, before the run that completes
Runs = list[tuple[str, int, int]]  # (status, cells_new, cells stored under the run's id), oldest first


def killed_while_publishing(folder: Path) -> list[Outcome]:
    """Two outcomes: the first kill (and the next run marking its row), the second (and the run that completes)."""
    folder.mkdir(parents=True)
    hooks = folder / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(HANG_IN_PUBLISH)
    store, snapshot = folder / "db.duckdb", folder / "snap.duckdb"
    printed: list[str] = []
    problems: list[list[str]] = []
    with FaultEndpoint(Scripted([], then=Fault.OK)) as server:  # answers at once: the runs reach publishing
        config = write_config(folder, server.url)
        for n in range(1, KILLS + 1):
            before = digest(snapshot)
            marker = folder / f"publishing-{n}"
            env = child_env(folder) | {MARKER_ENV: str(marker),
                                       "PYTHONPATH": os.pathsep.join(filter(None, [str(hooks), os.environ.get("PYTHONPATH")]))}
            child = start_child([PYTHON, "-m", "mmwatch.cli", "run", "-c", str(config)], folder, env, folder / f"killed-{n}")
            reached = wait_for(marker, child, timeout_s=120)
            if reached:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)  # the run and anything it started
            code = finish_child(child, 60)
            said = (folder / f"killed-{n}.out").read_text(errors="replace") + (folder / f"killed-{n}.err").read_text(
                errors="replace")
            printed.append(said)
            wrong = [] if reached else [f"it never reached the publish (exit {code}): {short(said, 300)!r}"]
            wrong += [] if code == -signal.SIGKILL else [f"exit code {code}, expected {-signal.SIGKILL}"]
            wrong += [] if digest(snapshot) == before else [
                "the snapshot changed: " + ("it was absent" if before is None else "it is not the previous one")]
            runs = run_rows(store)
            if n > 1:  # this run marked the one killed before it
                problems[-1] += rows_problems(runs[:-1], "the next run left the killed run's row")
            wrong += rows_problems(runs[-1:], "after the kill the run's row is", want="running")
            wrong += [] if len(runs) == n else [f"{len(runs)} run rows after {n} run(s): {runs}"]
            problems.append(wrong)
        code, out, err = mmwatch_run(config, folder, folder / "final", timeout_s=120)
    printed.append(out + err)
    problems[-1] += final_problems(store, snapshot, code, err)
    leaks = secret_in_tables(store) + secret_in_tables(snapshot)
    leaks += ["stdout/stderr"] if any(SECRET in text for text in printed) else []
    leaked = ", ".join(leaks) or None
    return [
        check("SIGKILL while publishing the snapshot", problems[0],
              "exit -9; row `running`, then `interrupted` by the next run; the snapshot absent or the one before", leaked),
        check("SIGKILL again while the next run publishes, then a third run", problems[1],
              f"exit -9; the snapshot unchanged; then rows interrupted x{KILLS}, completed; {STOP_CELLS} cells, each "
              "counted once; no temporary snapshot file left", leaked),
    ]


def wait_for(marker: Path, child: subprocess.Popen[str], timeout_s: float) -> bool:
    """Whether `marker` appeared before the child ended or `timeout_s` passed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and child.poll() is None:
        if marker.exists():
            return True
        time.sleep(0.02)
    return marker.exists()


def digest(path: Path) -> str | None:
    """The file's SHA-256, None when there is no file."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def run_rows(store: Path, *, snapshot: bool = False) -> Runs:
    """Each run row of the store (or of a snapshot, which has no cells table), oldest first."""
    import duckdb

    if not store.exists():
        return []
    stored = "0" if snapshot else "(SELECT count(*) FROM cells c WHERE c.run_id = r.run_id)"
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute(f"SELECT status, cells_new, {stored} FROM runs r ORDER BY started_at").fetchall()
    return [(str(status), int(new or 0), int(count)) for status, new, count in rows]


def rows_problems(runs: Runs, said: str, want: str = "interrupted") -> list[str]:
    return [f"{said} {status!r}, expected {want!r}" for status, _, _ in runs if status != want]


def final_problems(store: Path, snapshot: Path, code: int | None, err: str) -> list[str]:
    """What is wrong after the run that completes: rows, cells, the snapshot and its temporary files."""
    import duckdb

    wrong = [] if code == 0 else [f"the third run exited {code}: {short(err, 300)!r}"]
    runs = run_rows(store)
    want = ["interrupted"] * KILLS + ["completed"]
    wrong += [] if [r[0] for r in runs] == want else [f"run rows {[r[0] for r in runs]}, expected {want}"]
    wrong += [f"a run row counts {new} new cells, {stored} are stored under it" for _, new, stored in runs if new != stored]
    counted = sum(new for _, new, _ in runs)
    total = distinct = errors = 0
    if store.exists():
        with duckdb.connect(str(store), read_only=True) as con:
            total, distinct, errors = con.execute(
                "SELECT count(*), count(DISTINCT cell_key), count(error) FROM cells").fetchone() or (0, 0, 0)
    if not total == distinct == counted == STOP_CELLS or errors:
        wrong.append(f"{total} cells stored, {distinct} distinct, {errors} errors, the run rows count {counted} new; "
                     f"expected {STOP_CELLS}, each once")
    published = [r[0] for r in run_rows(snapshot, snapshot=True)]
    wrong += [] if published == want else [f"the snapshot's run rows {published}, expected {want}"]
    left = sorted(p.name for p in snapshot.parent.glob(f".{glob.escape(snapshot.name)}.*.tmp*"))
    wrong += [f"temporary snapshot file(s) left: {left}"] if left else []
    return wrong
