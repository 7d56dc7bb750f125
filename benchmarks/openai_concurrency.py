"""How much the `openai` adapter's concurrency buys on a latency-bound endpoint.

A hosted model answers in hundreds of milliseconds, so a nightly run over thousands of probes
lives or dies by how many requests are in flight. A loopback stand-in server answers every
request after a fixed delay; the same probes go through the adapter at concurrency 16 and at
concurrency 1 (sequential, the baseline). Prints both throughputs and the ratio; exits non-zero
under the target.

    python benchmarks/openai_concurrency.py [--probes 64] [--concurrency 16] [--latency 0.2] [--target 10]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from fastapi import FastAPI

from adapters.openai_api import openai
from adapters.serve import running
from mmwatch.types import GenerationParams, Probe


def stand_in(latency_s: float) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(body: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(latency_s)
        return {
            "id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
        }

    return app


def throughput(url: str, probes: list[Probe], concurrency: int) -> float:
    """Probes per second through the adapter; every probe must succeed."""
    adapter = openai("stand-in", base_url=url, concurrency=concurrency, max_retries=0)
    start = time.perf_counter()
    answers = adapter.generate(probes, GenerationParams(max_new_tokens=1))
    elapsed = time.perf_counter() - start
    failed = [a.error for a in answers if a.error]
    if failed:
        raise SystemExit(f"{len(failed)} probes failed, first: {failed[0]}")
    return len(probes) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the stand-in waits per request")
    parser.add_argument("--target", type=float, default=10.0)
    args = parser.parse_args()
    probes = [Probe(sample_id="bench:1", index=i, text=f"question {i}") for i in range(args.probes)]
    with running(stand_in(args.latency)) as url:
        throughput(url, probes[:4], args.concurrency)  # warm-up: imports, first connection
        concurrent = throughput(url, probes, args.concurrency)
        sequential = throughput(url, probes, 1)
    ratio = concurrent / sequential
    ideal = min(args.concurrency, args.probes)
    print(f"openai adapter, {args.probes} probes, {args.latency * 1000:.0f} ms per request (loopback stand-in)")
    print(f"  concurrency {args.concurrency:>3}: {concurrent:7.1f} probes/s")
    print(f"  concurrency   1: {sequential:7.1f} probes/s  (baseline)")
    print(f"  speed-up {ratio:.1f}x (ideal {ideal}x, target >= {args.target:g}x)")
    return 0 if ratio >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
