"""ms per PGD step: mmwatch's `pgd` attack vs a bare torch loop on the same model, image and target.

mmwatch's attack goes through the registry, the adapter's gradient model, per-sample early
stopping and bookkeeping; the baseline is the loop one writes by hand (HF `labels` loss,
`backward`, sign step, projection). Both run the same number of steps (early stop off) from
the same grey image with the same prompt and target, interleaved and repeated so that a busy
machine slows both alike; each side's time is its median over repeats, whole call included
(input preparation, final PNG). Prints both and the ratio time_bare / time_mmwatch; exits
non-zero under the target (mmwatch at least 0.9x the bare loop's speed).

    python benchmarks/pgd_step.py [--model DIR] [--batch 1] [--steps 50] [--repeats 5] [--target 0.9]

Without --model it builds the tiny random LLaVA of the tests in a temp folder.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image

TARGET = "Sure, here it is"
QUESTION = "What is shown in this image?"


def bare_loop(model: Any, processor: Any, image: Image.Image, batch: int, steps: int, device: Any, dtype: Any) -> float:
    """A hand-written PGD loop: the baseline. Returns the last loss."""
    import torch

    from adapters.hf.prompt import build_prompt

    prompt = build_prompt(processor, QUESTION, 1)
    n_target = len(processor.tokenizer(TARGET, add_special_tokens=False).input_ids)
    enc = processor(text=[prompt + TARGET] * batch, images=[image] * batch, return_tensors="pt")
    ids, mask = enc["input_ids"].to(device), enc["attention_mask"].to(device)
    labels = ids.clone()
    labels[:, :-n_target] = -100
    ip = processor.image_processor
    x0 = ip(images=[image] * batch, do_normalize=False, return_tensors="pt")["pixel_values"].to(device)
    mean = torch.tensor(ip.image_mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(ip.image_std, device=device).view(1, 3, 1, 1)
    eps, alpha = 16 / 255, 1 / 255
    flags = [p.requires_grad for p in model.parameters()]
    model.requires_grad_(False)
    x = x0.clone()
    loss = torch.tensor(0.0)
    for _ in range(steps):
        x.requires_grad_(True)
        loss = model(input_ids=ids, attention_mask=mask, pixel_values=((x - mean) / std).to(dtype), labels=labels).loss
        loss.backward()
        with torch.no_grad():
            x = x - alpha * x.grad.sign()
            x = torch.min(torch.max(x, x0 - eps), x0 + eps).clamp(0, 1)
    for p, flag in zip(model.parameters(), flags):
        p.requires_grad_(flag)
    return float(loss.detach())


def mmwatch_attack(adapter: Any, image: Image.Image, batch: int, steps: int) -> float:
    from mmwatch import plugins
    from mmwatch.types import ImageData, Sample, SampleKind

    picture = ImageData.from_pil(image)
    samples = [Sample(benchmark="bench", source_id=str(i), category="c", kind=SampleKind.HARMFUL, text=QUESTION,
                      image=picture) for i in range(batch)]
    attack = plugins.attacks.build("pgd", {"target": TARGET, "steps": steps, "init": "sample",
                                           "early_stop_loss": 0.0})
    probes = attack.obj(samples, adapter)
    assert all(p[0].attack_params["steps_run"] == steps for p in probes)
    return float(probes[0][0].attack_params["final_loss"])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", help="checkpoint folder (default: a tiny random LLaVA)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave as is)")
    parser.add_argument("--target", type=float, default=0.9)
    args = parser.parse_args()

    import torch

    from adapters.hf.adapter import hf
    from adapters.tiny import make_tiny_model

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.model) if args.model else make_tiny_model(Path(tmp) / "llava", "llava", seed=0)
        adapter = hf(str(path), device=args.device)
        model, processor = adapter.model_and_processor()
        weight = next(model.parameters())
        device, dtype = weight.device, weight.dtype
        side = processor.image_processor.crop_size["height"] if hasattr(processor.image_processor, "crop_size") else 336
        image = Image.new("RGB", (side, side), (128, 128, 128))
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        times: dict[str, list[float]] = {"bare": [], "mmwatch": []}
        runs = {
            "bare": lambda: bare_loop(model, processor, image, args.batch, args.steps, device, dtype),
            "mmwatch": lambda: mmwatch_attack(adapter, image, args.batch, args.steps),
        }
        for name, run in runs.items():  # warm-up: first-call costs are nobody's step time
            run()
        for _ in range(args.repeats):
            for name, run in runs.items():
                sync()
                t0 = time.perf_counter()
                run()
                sync()
                times[name].append((time.perf_counter() - t0) / args.steps)
        adapter.close()
    bare, mine = statistics.median(times["bare"]), statistics.median(times["mmwatch"])
    ratio = bare / mine
    print(f"model={args.model or 'tiny-llava'} device={device} batch={args.batch} steps={args.steps} "
          f"repeats={args.repeats}")
    print(f"bare torch loop {bare * 1000:.2f} ms/step   mmwatch pgd {mine * 1000:.2f} ms/step   "
          f"speed ratio bare/mmwatch {ratio:.2f} (target >= {args.target})")
    return 0 if ratio >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
