"""Family 5, interrupted runs: signals thrown at `mmwatch run` mid-evaluation, then a run to the end.

The fourth and fifth stops (SIGKILL while the snapshot is published, twice) are in publishing.py;
`interrupted_runs` runs all of them at once, each with its own store and endpoint.
"""

from __future__ import annotations

import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .common import (PYTHON, SECRET, Outcome, check, child_env, finish_child, mmwatch_run, secret_in_tables, short,
                     squeeze, start_child)
from .endpoint import Fault, FaultEndpoint, Scripted
from .publishing import killed_while_publishing
from .stopped_run import STOP_BATCH, STOP_CELLS, STOP_CONCURRENCY, STOP_SLOW_S, write_config

# (name, signal, the exit code it must give). Add a row to throw another stop at a running cycle.
STOPS: tuple[tuple[str, signal.Signals, int], ...] = (
    ("SIGINT", signal.SIGINT, 130),
    ("SIGTERM", signal.SIGTERM, 143),
    ("SIGKILL", signal.SIGKILL, -signal.SIGKILL),
)


def interrupted_runs(tmp: Path) -> list[Outcome]:
    """Each stop of STOPS thrown at `mmwatch run` mid-evaluation, and the kills while publishing (all at once)."""
    with ThreadPoolExecutor(len(STOPS) + 1) as pool:
        publishing = pool.submit(killed_while_publishing, tmp / "publishing")
        stopped = list(pool.map(lambda stop: interrupted_run(tmp / stop[0], *stop), STOPS))
        return stopped + publishing.result()


def interrupted_run(folder: Path, name: str, sig: signal.Signals, exit_code: int) -> Outcome:
    """Stop a run once a result part is written, run again to the end, and check the store: the first
    run's row `interrupted`, every cell of the plan stored once, its shards' cells kept."""
    folder.mkdir(parents=True)
    with FaultEndpoint(Scripted([], then=Fault.SLOW), slow_s=STOP_SLOW_S) as server:
        config = write_config(folder, server.url)
        first = start_child([PYTHON, "-m", "mmwatch.cli", "run", "-c", str(config)], folder, child_env(folder),
                            folder / "first")
        results = folder / "results"
        deadline = time.monotonic() + 90
        parts: list[Path] = []
        while time.monotonic() < deadline and first.poll() is None:
            parts = sorted(results.rglob("_SUCCESS.json")) if results.exists() else []
            if parts:
                break
            time.sleep(0.05)
        if not parts:
            code = finish_child(first, 5)
            err = (folder / "first.err").read_text(errors="replace")
            return check(f"{name} mid-evaluation", [f"no result part written (exit {code}): {short(err, 300)!r}"],
                         "a result part within 90 s")
        in_parts = sum(int(json.loads(p.read_text()).get("cells", 0)) for p in parts)
        os.kill(first.pid, sig)
        code = finish_child(first, 60)
        first_out = (folder / "first.out").read_text(errors="replace") + (folder / "first.err").read_text(errors="replace")
        wrong = [] if code == exit_code else [f"exit code {code}, expected {exit_code}"
                                              + (" (killed after 60 s)" if code is None else "")]
        if sig is not signal.SIGKILL:  # a killed process says nothing; the next run reports it
            wrong += ["a Traceback after the stop"] if "Traceback" in first_out else []
            wrong += [] if squeeze(f"stopped by {name}") in squeeze(first_out) else [f"no 'stopped by {name}' message"]
        server.schedule = Scripted([], then=Fault.OK)  # the second run answers at once
        code2, out2, err2 = mmwatch_run(config, folder, folder / "second", timeout_s=120)
        requests = len(server.chat_requests())
    wrong += [] if code2 == 0 else [f"the second run exited {code2}: {short(err2, 300)!r}"]
    wrong += store_problems(folder / "db.duckdb", in_parts)
    slack = STOP_CELLS + STOP_BATCH + STOP_CONCURRENCY
    wrong += [] if requests <= slack else [f"{requests} model calls for {STOP_CELLS} cells (more than {slack})"]
    leaks = secret_in_tables(folder / "db.duckdb") + (["stdout/stderr"] if SECRET in first_out + out2 + err2 else [])
    return check(f"{name} mid-evaluation, then run again", wrong,
                 f"exit {exit_code}; run row interrupted; {STOP_CELLS} cells, each once; the part's cells kept",
                 ", ".join(leaks) or None)


def store_problems(path: Path, in_parts: int) -> list[str]:
    """What is wrong with the store after an interrupted run and a whole one."""
    import duckdb

    if not path.exists():
        return ["no store file"]
    with duckdb.connect(str(path), read_only=True) as con:
        runs = con.execute("SELECT run_id, status, cells_planned, plan_id FROM runs ORDER BY started_at").fetchall()
        if len(runs) != 2:
            return [f"{len(runs)} run rows, expected 2: {runs}"]
        (first, status1, _, _), (_, status2, planned, plan_id) = runs
        wrong = [] if status1 == "interrupted" else [f"first run row is {status1!r}, expected 'interrupted'"]
        wrong += [] if status2 == "completed" else [f"second run row is {status2!r}"]
        total, distinct, errors = con.execute(
            "SELECT count(*), count(DISTINCT cell_key), count(error) FROM cells").fetchone() or (0, 0, 0)
        plan = con.execute("SELECT cells FROM plans WHERE plan_id = ?", [plan_id]).fetchone()
        covered = con.execute("SELECT count(*) FROM plan_cells p JOIN cells c USING (cell_key) WHERE p.plan_id = ?",
                              [plan_id]).fetchone()
        kept = con.execute("SELECT count(*) FROM cells WHERE run_id = ?", [first]).fetchone()
    wrong += [] if total == distinct else [f"{total - distinct} duplicated cell_key(s)"]
    wrong += [] if errors == 0 else [f"{errors} error cell(s) left"]
    plan_cells = plan[0] if plan else None
    if not (planned == plan_cells == STOP_CELLS and covered and covered[0] == STOP_CELLS and total == STOP_CELLS):
        wrong.append(f"cells stored {total}, of the plan {covered[0] if covered else None}; plan says {plan_cells}, "
                     f"run row {planned}; expected {STOP_CELLS}")
    if not kept or kept[0] < in_parts:
        wrong.append(f"the interrupted run keeps {kept[0] if kept else 0} cells, its written parts held {in_parts}")
    return wrong
