"""API throughput: mmwatch's engine against a bare AsyncOpenAI + semaphore client, same probes.

A stand-in OpenAI-compatible endpoint (its own process, 127.0.0.1) answers each request after a
fixed latency and records when the first request came and the last answer left. In one run:

1. engine vs bare client at C=16 (200 text + PNG probes) and C=64 (640), each rate measured at
   the endpoint (first request to last answer), median of three alternating runs: the engine is
   the real path of units in this process (sliding window, local judge, result shards on disk),
   default config otherwise. Targets: ratio >= 0.9 at C=16, >= 0.8 at C=64.
2. `mmwatch run` as a whole at N=2,000, C=64 against the bare client as a whole process: its
   steady rate at the endpoint (first request to last answer) >= 0.8 of the bare client's, and its
   whole-process rate, start-up included, >= 0.5 of the bare client's process rate.
3. two units (C=8 each) on two worker processes vs the same two units on one: cells per second
   from the first unit's start to the last unit's end (workers start together, after their
   imports): >= 1.8x.

    python benchmarks/api_throughput.py [--latency 0.2] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


# --- the stand-in endpoint (run with --serve PORT) -----------------------------------------
def serve(port: int, latency: float) -> None:
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()
    seen = {"first": 0.0, "last": 0.0, "n": 0}

    @app.post("/v1/chat/completions")
    async def chat(body: dict[str, Any]) -> dict[str, Any]:
        if not seen["n"]:
            seen["first"] = time.time()
        seen["n"] += 1
        await asyncio.sleep(latency)
        seen["last"] = time.time()
        return {"id": "b", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "I cannot help with that."},
                             "finish_reason": "stop"}], "usage": {"prompt_tokens": 10, "completion_tokens": 6}}

    @app.post("/stats")
    async def stats() -> dict[str, float]:
        out = dict(seen)
        seen.update(first=0.0, last=0.0, n=0)
        return out

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def endpoint_stats(url: str) -> dict[str, float]:
    request = urllib.request.Request(url.removesuffix("/v1") + "/stats", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as r:
        stats: dict[str, float] = json.load(r)
    return stats


def steady(stats: dict[str, float]) -> float:
    return stats["n"] / (stats["last"] - stats["first"])


# --- the bare client ---------------------------------------------------------------------
async def bare(url: str, n: int, concurrency: int, image: bytes) -> float:
    from openai import AsyncOpenAI

    gate = asyncio.Semaphore(concurrency)
    data = "data:image/png;base64," + base64.b64encode(image).decode()
    async with AsyncOpenAI(api_key="EMPTY", base_url=url, max_retries=0) as client:
        async def one(i: int) -> None:
            async with gate:
                await client.chat.completions.create(model="stand-in", max_tokens=16, temperature=0.0, messages=[
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": data}},
                                                 {"type": "text", "text": f"What does sign {i} say?"}]}])
        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - start)


# --- the engine --------------------------------------------------------------------------
def write_config(folder: Path, url: str, n: int, concurrency: int, image: bytes) -> Path:
    (folder / "sign.png").write_bytes(image)
    rows = [json.dumps({"id": f"s{i}", "text": f"What does sign {i} say?", "kind": "harmful", "category": "c",
                        "image": "sign.png"}) for i in range(n)]
    (folder / "bench.jsonl").write_text("\n".join(rows) + "\n")
    path = folder / "run.yaml"
    path.write_text(f"""
name: throughput
store: {{path: {folder}/db.duckdb, artifacts: {folder}/art, snapshot: {folder}/snap.duckdb}}
models:
  - {{lineage: bench/api, revision: v1, adapter: openai,
      params: {{model: stand-in, base_url: "{url}", concurrency: {concurrency}, max_retries: 0}}}}
benchmarks: [{{name: jsonl, params: {{path: {folder}/bench.jsonl}}}}]
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
canary: {{enabled: false}}  # a known number of cells per run
""")
    return path


def units_for(config_path: Path, run_id: str) -> tuple[list[Any], dict[str, list[Any]]]:
    from mmwatch.config import load_config
    from mmwatch.engine.discovery import configured_models
    from mmwatch.engine.plan import Matrix, plan
    from mmwatch.engine.samples import load_samples
    from mmwatch.engine.units import split_units
    from mmwatch import plugins

    config = load_config(config_path)
    samples, _ = load_samples(config)
    matrix = Matrix(models=configured_models(config), samples=samples,
                    attacks=[plugins.attacks.build(a.name, a.params) for a in config.attacks],
                    defenses=[plugins.defenses.build(d.name, d.params) for d in config.defenses],
                    generation=config.generation, seed=config.seed)
    new = plan(matrix, lambda keys: set()).new
    units = split_units(new, config, run_id)
    by_key = {c.key: c for c in new}
    return units, {u.unit_id: [by_key[c.key] for c in u.cells] for u in units}


def engine(config_path: Path) -> float:
    """Cells per second of the units' wall time (model loading, judging and shard writes included)."""
    from mmwatch.engine.workers import run_units_locally

    import shutil

    shutil.rmtree(config_path.parent / "results", ignore_errors=True)  # else the units find their cells done
    units, cells = units_for(config_path, f"bench-{time.time_ns()}")
    start = time.perf_counter()
    reports = run_units_locally(units, cells, units[0].config)
    elapsed = time.perf_counter() - start
    written = sum(r.cells_written for r in reports)
    failed = sum(r.cells_failed for r in reports)
    if failed or written != sum(len(c) for c in cells.values()):
        raise SystemExit(f"engine: {failed} error cells, {written} written")
    return written / elapsed


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def worker(config_path: Path, shards: list[int], at: float) -> None:
    """One worker process: from wall-clock time `at` (so that workers start together whatever their
    import time), run the given units one after another; print when it started and ended."""
    from mmwatch.engine.workers import local_judges, run_unit
    from storage.shards import ShardWriter

    units, cells = units_for(config_path, "bench-workers")
    mine = [units[i] for i in shards]
    judges = local_judges(mine[0].config)
    time.sleep(max(0.0, at - time.time()))
    start = time.time()
    done = sum(run_unit(u, cells[u.unit_id], ShardWriter(f"{config_path.parent}/results-{os.getpid()}", u.unit_id,
                                                          u.run_id), judges).cells_written for u in mine)
    print(json.dumps({"start": start, "end": time.time(), "cells": done}))


def workers_rate(config_path: Path, assignment: list[list[int]]) -> float:
    at = str(time.time() + 15)
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", str(config_path), ",".join(map(str, shards)), at],
                              stdout=subprocess.PIPE, cwd=ROOT) for shards in assignment]
    results = [json.loads(p.communicate(timeout=600)[0].decode().strip().splitlines()[-1]) for p in procs]
    span = max(r["end"] for r in results) - min(r["start"] for r in results)
    return sum(r["cells"] for r in results) / span


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--quick", action="store_true", help="smaller N (a smoke run, not the targets' sizes)")
    parser.add_argument("--serve", type=int)
    parser.add_argument("--worker", nargs=3)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.latency)
        return 0
    if args.worker:
        worker(Path(args.worker[0]), [int(i) for i in args.worker[1].split(",")], float(args.worker[2]))
        return 0

    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--latency", str(args.latency)])
    url = f"http://127.0.0.1:{port}/v1"
    image = png()
    ok = True
    try:
        for _ in range(100):
            try:
                endpoint_stats(url)
                break
            except OSError:
                time.sleep(0.1)
        asyncio.run(bare(url, 8, 8, image))  # warm-up
        print(f"loopback endpoint, {args.latency * 1000:.0f} ms per request, text + PNG probes")
        # Rates at the endpoint (first request to last answer), the same definition for both, as the
        # median of three alternating runs; the client-side wall rate of the engine (loading the
        # adapter, local judging and the last shard write included) is printed beside it.
        for concurrency, n, target in ((16, 200, 0.9), (64, 640, 0.8)):
            n = n // 4 if args.quick else n
            bases, mines, walls = [], [], []
            with tempfile.TemporaryDirectory() as tmp:
                config = write_config(Path(tmp), url, n, concurrency, image)
                for _ in range(3):
                    endpoint_stats(url)
                    asyncio.run(bare(url, n, concurrency, image))
                    bases.append(steady(endpoint_stats(url)))
                    walls.append(engine(config))
                    mines.append(steady(endpoint_stats(url)))
            base, mine = median(bases), median(mines)
            ok &= mine / base >= target
            print(f"  C={concurrency:<3} N={n:<5} bare {base:6.1f} req/s  engine {mine:6.1f} req/s  "
                  f"ratio {mine / base:.2f} (target >= {target}); engine wall rate {median(walls):6.1f}")
        endpoint_stats(url)

        n = 500 if args.quick else 2000
        env = {**os.environ, "PREFECT_API_URL": "", "HF_HUB_OFFLINE": "1"}
        bare_script = (f"import asyncio, sys; sys.path.insert(0, {str(ROOT)!r}); "
                       f"from benchmarks.api_throughput import bare, png; "
                       f"asyncio.run(bare({url!r}, {n}, 64, png()))")
        runs: dict[str, list[tuple[float, float]]] = {"bare": [], "run": []}
        for _ in range(1 if args.quick else 3):  # alternating; the medians are compared
            endpoint_stats(url)
            runs["bare"].append((timed([sys.executable, "-c", bare_script], env), steady(endpoint_stats(url))))
            with tempfile.TemporaryDirectory() as tmp:
                config = write_config(Path(tmp), url, n, 64, image)
                wall = timed([sys.executable, "-m", "mmwatch.cli", "run", "-c", str(config)], env)
            runs["run"].append((wall, steady(endpoint_stats(url))))
        bare_wall, bare_steady = median([w for w, _ in runs["bare"]]), median([r for _, r in runs["bare"]])
        run_wall, run_steady = median([w for w, _ in runs["run"]]), median([r for _, r in runs["run"]])
        steady_ratio, process_ratio = run_steady / bare_steady, bare_wall / run_wall
        ok &= steady_ratio >= 0.8 and process_ratio >= 0.5
        print(f"  mmwatch run, N={n}, C=64: steady {run_steady:6.1f} vs bare {bare_steady:6.1f} req/s, ratio "
              f"{steady_ratio:.2f} (target >= 0.8); whole process {n / run_wall:6.1f} vs {n / bare_wall:6.1f} req/s "
              f"({run_wall:.1f} s vs {bare_wall:.1f} s), ratio {process_ratio:.2f} (target >= 0.5)")

        n = 200 if args.quick else 800
        with tempfile.TemporaryDirectory() as tmp:
            config = write_config(Path(tmp), url, n, 8, image)
            (Path(tmp) / "run.yaml").write_text((Path(tmp) / "run.yaml").read_text()
                                                + f"work: {{shard_size: {n // 2}}}\n")
            one = workers_rate(config, [[0, 1]])
            two = workers_rate(config, [[0], [1]])
        ok &= two / one >= 1.8
        print(f"  two units of {n // 2}, C=8 each: one worker {one:6.1f} cells/s, two workers {two:6.1f} cells/s, "
              f"{two / one:.2f}x (target >= 1.8x)")
    finally:
        server.terminate()
        server.wait(timeout=10)
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
