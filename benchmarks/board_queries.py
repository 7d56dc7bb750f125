"""How fast the leaderboard answers on a big snapshot: every leaderboard/data query a page makes.

Target: on a snapshot published from 10 million verdicts, every query answers in under 300 ms.
A synthetic primary store (benchmarks/synthetic_store.py: a real DuckDBStore, filled by SQL) is
published with the real `storage.snapshot.publish`, then each page's calls are timed through
`leaderboard.data` exactly as the pages make them: each call opens the file read-only (once: a call
of several queries runs them on one connection, `leaderboard.data.source.opened`), so the time
includes opening it; `conns` counts the connections a call opened. Each call: one warm-up, then the
median (and the slowest) of `--repeat` runs. The baseline, measured in the same run: the same calls on
a snapshot built the same way at 1/100 of the size (~100k verdicts); the ratio says how a query grows with the data.
Prints build and publish times, the snapshot's size and the table; exits non-zero when a query
misses the target.

    .venv/bin/python benchmarks/board_queries.py [--scale 1.0] [--keep DIR [--reuse]] [--mode operator|public]
        [--repeat 5] [--target-ms 300]

`--scale 0.05` is a quick run (~500k verdicts, about two minutes); the full run builds 2.5 M cells and
10 M verdicts (about 8 minutes on 2 cores, 8 GB DuckDB memory limit, ~2.5 GB of disk while it runs).
`--keep DIR` builds in DIR and keeps the stores and snapshots; `--reuse` with it publishes again from
the stores an earlier `--keep DIR` run of the same scale left there instead of building them (the
current publisher's snapshot, in a minute or two at full scale: for timing a change to the
publisher or the queries).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic_store import Built, Shape, build, check, kept, republish  # noqa: E402
from leaderboard import data  # noqa: E402
from leaderboard.data import source  # noqa: E402
from mmwatch.records import BoardMode  # noqa: E402

Call = Callable[[Path], Any]
FLOOR = "(open + SELECT 1: the floor)"  # not a page's query: what each connection costs at least


@dataclass(frozen=True)
class Picks:
    """Realistic arguments, taken from the snapshot: what a reader would click."""

    model_id: str
    lineage: str
    attack: str
    defenses: tuple[str, ...]
    defense: str
    benchmark: str
    judge: str
    alert_id: str
    cell_key: str
    image_sha: str
    search_model: str
    search_item: str


def picks(path: Path) -> Picks:
    alerts = data.alerts(path=path)
    pooled = alerts[alerts["attack_hash"] == "*"]
    alert = (pooled if len(pooled) else alerts).iloc[0]
    model_id = str(alert["model_id"])  # a regressed revision: it has a predecessor and alerts
    attacks = data.attacks(path=path)
    defenses = tuple(data.defenses(path=path))
    attack = next((a for a in attacks if a == "figstep"), attacks[-1])
    items = data.sample_items(model_id, attack, defense=defenses[0], kind="harmful", limit=50, path=path)
    benign = data.sample_items(model_id, attack, kind="benign", limit=50, path=path)  # published in either mode
    shas = [str(s) for row in benign["image_shas"] for s in (row if row is not None else [])]
    judges = data.judges(path=path)
    return Picks(model_id=model_id, lineage=str(alert["lineage"]), attack=attack, defenses=defenses,
                 defense=defenses[-1], benchmark=data.benchmarks(path=path)[0], judge=judges[-1],
                 alert_id=str(alert["alert_id"]), cell_key=str(items["cell_key"].iloc[len(items) // 2]),
                 image_sha=shas[0] if shas else "", search_model="checkpoint-2", search_item="malware")


def _by_defense(defense: str) -> Call:
    return lambda f: data.asr_by_attack(defense=defense, path=f)


def calls(p: Picks) -> list[tuple[str, Call]]:
    """Every leaderboard/data function the pages call, with the arguments a page passes."""
    out: list[tuple[str, Call]] = [
        ("meta()", lambda f: data.meta(path=f)),
        ("ranking()", lambda f: data.ranking(path=f)),
        ("ranking(latest_only)", lambda f: data.ranking(latest_only=True, path=f)),
        (f"ranking(benchmark={p.benchmark})", lambda f: data.ranking(benchmark=p.benchmark, path=f)),
        (f"ranking(attack={p.attack})", lambda f: data.ranking(attack=p.attack, path=f)),
        (f"ranking(defense={p.defense})", lambda f: data.ranking(defense=p.defense, path=f)),
        (f"ranking(judge={p.judge})", lambda f: data.ranking(judge=p.judge, path=f)),
        (f"ranking(search={p.search_model!r})", lambda f: data.ranking(search=p.search_model, path=f)),
        ("frontier()", lambda f: data.frontier(path=f)),
    ]
    out += [(f"asr_by_attack(defense={d})", _by_defense(d)) for d in p.defenses]
    out += [
        ("asr_by_attack(model)", lambda f: data.asr_by_attack(p.model_id, path=f)),
        ("defense_deltas()", lambda f: data.defense_deltas(path=f)),
        ("defense_deltas(model)", lambda f: data.defense_deltas(p.model_id, path=f)),
        ("asr_by_category(model)", lambda f: data.asr_by_category(p.model_id, path=f)),
        (f"asr_by_category(benchmark={p.benchmark})", lambda f: data.asr_by_category(benchmark=p.benchmark, path=f)),
        ("refusal_rates(model)", lambda f: data.refusal_rates(p.model_id, path=f)),
        ("benchmark_scores()", lambda f: data.benchmark_scores(path=f)),
        ("benchmark_scores(headline_only)", lambda f: data.benchmark_scores(headline_only=True, path=f)),
        ("defenses()", lambda f: data.defenses(path=f)),
        ("attacks()", lambda f: data.attacks(path=f)),
        ("judges()", lambda f: data.judges(path=f)),
        ("benchmarks()", lambda f: data.benchmarks(path=f)),
        ("lineages()", lambda f: data.lineages(path=f)),
        ("history(lineage)", lambda f: data.history(p.lineage, path=f)),
        ("trend(lineage)", lambda f: data.trend(p.lineage, path=f)),
        ("trend_nights(lineage)", lambda f: data.trend_nights(p.lineage, path=f)),
        ("trend_nights()", lambda f: data.trend_nights(path=f)),
        ("night_alerts()", lambda f: data.night_alerts(path=f)),
        ("nights()", lambda f: data.nights(path=f)),
        ("changes()", lambda f: data.changes(path=f)),
        ("alerts()", lambda f: data.alerts(path=f)),
        ("regressed_samples(alert)", lambda f: data.regressed_samples(p.alert_id, path=f)),
        ("runs()", lambda f: data.runs(path=f)),
        ("example_index()", lambda f: data.example_index(path=f)),
        ("examples(model, attack, defense)",
         lambda f: data.examples(p.model_id, p.attack, defense=p.defenses[0], path=f)),
        ("sample_items()", lambda f: data.sample_items(path=f)),
        ("sample_items(disagree)", lambda f: data.sample_items(disagree=True, path=f)),
        ("sample_items(model, disagree)", lambda f: data.sample_items(p.model_id, disagree=True, path=f)),
        ("sample_items(alert_id)", lambda f: data.sample_items(alert_id=p.alert_id, path=f)),
        (f"sample_items(search={p.search_item!r})", lambda f: data.sample_items(search=p.search_item, path=f)),
        ("sample_detail(cell)", lambda f: data.sample_detail(p.cell_key, path=f)),
        ("verdicts(cell)", lambda f: data.verdicts(p.cell_key, path=f)),
        ("image(sha)", lambda f: data.image(p.image_sha, path=f)),
        ("label_queue()", lambda f: data.label_queue(path=f)),
    ]
    return out


@dataclass(frozen=True)
class Timing:
    median_ms: float
    max_ms: float
    rows: int  # of the result (a frame's rows; 1 for one object)
    connections: int  # read-only connections to the snapshot the call opened


def rows(result: Any) -> int:
    if hasattr(result, "__len__"):
        return len(result)
    return 0 if result is None else 1


def _floor(path: Path) -> Any:
    """What every query pays at least: open the snapshot read-only, one trivial statement, close."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT 1").fetchall()


def run_counted(call: Call, path: Path) -> tuple[Any, int]:
    """Run once, counting the connections it opens (leaderboard.data opens them with duckdb.connect)."""
    seen = [0]
    real = duckdb.connect

    def counted(*args: Any, **kwargs: Any) -> Any:
        seen[0] += 1
        return real(*args, **kwargs)

    with mock.patch.object(source.duckdb, "connect", counted):
        result = call(path)
    return result, seen[0]


def time_all(paths: Sequence[Path], repeat: int) -> list[dict[str, Timing]]:
    """Each call on every snapshot: a warm-up (which counts its connections), then `repeat` runs taking
    turns between the snapshots, so that a machine busier for a while slows them alike."""
    plans = [[(FLOOR, _floor), *calls(picks(path))] for path in paths]
    out: list[dict[str, Timing]] = [{} for _ in paths]
    for i, (name, _) in enumerate(plans[0]):
        firsts = [run_counted(plan[i][1], path) if i else (None, 1) for plan, path in zip(plans, paths, strict=True)]
        times: list[list[float]] = [[] for _ in paths]
        for _ in range(repeat):
            for j, path in enumerate(paths):
                call = plans[j][i][1]
                t0 = time.perf_counter()
                call(path)
                times[j].append((time.perf_counter() - t0) * 1000)
        for j, (result, conns) in enumerate(firsts):
            out[j][name] = Timing(statistics.median(times[j]), max(times[j]), rows(result) if i else 1, conns)
    return out


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB" if n >= 2**20 else f"{n / 2**10:,.0f} kB"


def _built(label: str, folder: Path, shape: Shape, mode: BoardMode, reuse: bool) -> Built:
    print(f"{label}: {shape.models} revisions x {shape.samples} samples, {shape.nights} nights", flush=True)
    make = republish if reuse and kept(folder, shape) else build
    built = make(folder, shape, mode=mode, log=lambda line: print(line, flush=True))
    problems = check(built)
    if problems:
        raise SystemExit(f"the {label} snapshot does not match what was built:\n  " + "\n  ".join(problems))
    print(f"  {built.cells:,} cells ({built.errors:,} errors), {built.verdicts:,} verdicts, {built.alerts} alerts; "
          f"built in {built.build_s:.1f} s; history: {built.history_rows:,} rows ({built.history_source} block) "
          f"in {built.history_s:.1f} s; publish {built.publish_s:.1f} s; snapshot {_mb(built.snapshot_bytes)} "
          f"({built.snapshot})", flush=True)
    return built


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 10 M verdicts (default 1.0)")
    parser.add_argument("--baseline-scale", type=float, default=None, help="default: scale / 100")
    parser.add_argument("--keep", type=Path, default=None, help="build in DIR and keep the stores and snapshots")
    parser.add_argument("--reuse", action="store_true",
                        help="with --keep: publish again from the stores kept in DIR (built when absent)")
    parser.add_argument("--mode", choices=[m.value for m in BoardMode], default=BoardMode.OPERATOR.value,
                        help="snapshot mode (operator, the default, has every page: Label, Runs)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--target-ms", type=float, default=300.0)
    args = parser.parse_args()
    mode = BoardMode(args.mode)
    if args.reuse and args.keep is None:
        parser.error("--reuse needs --keep DIR")
    base_scale = args.baseline_scale if args.baseline_scale is not None else args.scale / 100
    with tempfile.TemporaryDirectory(prefix="board-queries-") as tmp:
        root = args.keep or Path(tmp)
        small = _built(f"baseline (scale {base_scale:g})", root / "baseline", Shape.for_scale(base_scale), mode,
                       args.reuse)
        big = _built(f"measured (scale {args.scale:g})", root / "measured", Shape.for_scale(args.scale), mode,
                     args.reuse)
        load = os.getloadavg()[0]  # the 1-minute average: it still counts the publish just before
        baseline, measured = time_all([small.snapshot, big.snapshot], args.repeat)
        loads = (load, os.getloadavg()[0])
    size = f"{big.verdicts / 1e6:.1f}M" if big.verdicts >= 1e6 else f"{big.verdicts / 1e3:.0f}k"
    base = f"{small.verdicts / 1e3:.0f}k" if small.verdicts < 1e6 else f"{small.verdicts / 1e6:.1f}M"
    print(f"\nleaderboard/data on a {mode.value} snapshot from {size} verdicts ({_mb(big.snapshot_bytes)}), "
          f"median of {args.repeat} after a warm-up, a fresh read-only connection per call; "
          f"load average {loads[0]:.1f} before timing, {loads[1]:.1f} after, on {os.cpu_count()} cores")
    width = max(len(name) for name in measured)
    print(f"{'query':<{width}}  {'conns':>5}  {'median ms':>9}  {'max ms':>7}  {'rows':>6}  "
          f"{base + ' ms':>9}  ratio to the {base} baseline  target")
    slow = []
    for name, t in measured.items():
        b = baseline[name]
        ok = t.median_ms < args.target_ms
        if not ok and name != FLOOR:
            slow.append(name)
        verdict = "reference" if name == FLOOR else f"{'ok' if ok else 'SLOW'} (< {args.target_ms:g} ms)"
        print(f"{name:<{width}}  {t.connections:5d}  {t.median_ms:9.1f}  {t.max_ms:7.1f}  {t.rows:6d}  "
              f"{b.median_ms:9.1f}  "
              f"{t.median_ms / b.median_ms:{len(base) + 20}.1f}x  {verdict}")
    pages = {name: t for name, t in measured.items() if name != FLOOR}
    total = sum(t.median_ms for t in pages.values())
    print(f"{len(pages)} calls, {len(pages) - len(slow)} under {args.target_ms:g} ms; slowest "
          f"{max(pages.items(), key=lambda kv: kv[1].median_ms)[0]}; all together {total:.0f} ms "
          f"(baseline {sum(t.median_ms for name, t in baseline.items() if name != FLOOR):.0f} ms)")
    if slow:
        print("over the target: " + ", ".join(slow))
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
