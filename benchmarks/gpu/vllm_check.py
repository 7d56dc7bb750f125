"""GPU check (not run in CI): the vllm adapter against the hf adapter on the same checkpoint.

    python benchmarks/gpu/vllm_check.py /path/to/llava-checkpoint [--probes 256] [--target 3]

Submits N text+image probes through each adapter and prints probes/s and the ratio (vLLM's
continuous batching should beat batched transformers generate by a wide margin on a GPU).
"""

from __future__ import annotations

import argparse
import sys
import time

from PIL import Image, ImageDraw

from mmwatch import plugins
from mmwatch.types import GenerationParams, ImageData, Probe


def probes(n: int) -> list[Probe]:
    out = []
    for i in range(n):
        img = Image.new("RGB", (336, 336), "white")
        ImageDraw.Draw(img).ellipse((40 + i % 50, 40, 200, 200), fill=("red", "blue", "green")[i % 3])
        out.append(Probe(sample_id=f"gpu:{i}", text="What colour is the circle? Answer in one word.",
                         images=(ImageData.from_pil(img),)))
    return out


def rate(adapter_name: str, params: dict, batch: list[Probe], gen: GenerationParams) -> float:
    adapter = plugins.adapters.build(adapter_name, params).obj
    adapter.generate(batch[:2], gen)  # warm-up: weights on the GPU, kernels compiled
    start = time.perf_counter()
    answers = adapter.generate(batch, gen)
    elapsed = time.perf_counter() - start
    errors = sum(1 for a in answers if a.error)
    print(f"{adapter_name:5}: {len(batch) / elapsed:8.1f} probes/s  ({errors} errors; e.g. {answers[0].text!r})")
    adapter.close()
    return len(batch) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--probes", type=int, default=256)
    parser.add_argument("--target", type=float, default=3.0)
    args = parser.parse_args()
    batch = probes(args.probes)
    gen = GenerationParams(max_new_tokens=32, batch_size=32)
    hf = rate("hf", {"path": args.checkpoint, "batch_size": 32}, batch, gen)
    vl = rate("vllm", {"path": args.checkpoint}, batch, gen)
    print(f"vllm / hf throughput: {vl / hf:.1f}x (target {args.target}x)")
    return 0 if vl / hf >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
