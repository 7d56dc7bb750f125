"""One batch through a loaded transformers model: left-padded, greedy or seeded sampling.

A probe that cannot be prepared, or that breaks its batch, costs one error Response, never the
batch; a batch that runs out of GPU memory asks its caller for smaller batches instead.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adapters.hf.loading import Loaded
from adapters.hf.prompt import build_prompt
from mmwatch.types import GenerationParams, Probe, Response, stable_hash


@dataclass(frozen=True)
class _Prepared:
    prompt: str
    images: list[Any]


def _where(probe: Probe) -> str:
    return f"probe {probe.sample_id}#{probe.index}"


class BatchTooLarge(Exception):
    """The batch ran out of GPU memory; the caller halves the batch size and retries."""


def _is_oom(exc: BaseException) -> bool:
    return type(exc).__name__ == "OutOfMemoryError" or "out of memory" in str(exc).lower()


def free_cuda_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def generate_batch(state: Loaded, probes: Sequence[Probe], params: GenerationParams,
                    oom_raises: bool = False) -> list[Response]:
    """One batch; probes that fail to prepare get errors, a failing batch falls back per probe
    (or, when it ran out of memory and can shrink, asks the caller for smaller batches)."""
    responses: list[Response | None] = [None] * len(probes)
    prepared: dict[int, _Prepared] = {}
    for i, probe in enumerate(probes):
        try:
            prepared[i] = _prepare(state, probe)
        except Exception as exc:  # one bad input costs one cell
            responses[i] = Response(error=f"{_where(probe)}: cannot prepare: {exc}")
    if prepared:
        try:
            results = _run(state, [probes[i] for i in prepared], list(prepared.values()), params)
            for i, result in zip(prepared, results, strict=True):
                responses[i] = result
        except Exception as exc:
            if oom_raises and _is_oom(exc):
                raise BatchTooLarge from exc
            for i, prep in prepared.items():
                try:
                    responses[i] = _run(state, [probes[i]], [prep], params)[0]
                except Exception as exc:
                    responses[i] = Response(error=f"{_where(probes[i])}: generation failed: {type(exc).__name__}: {exc}")
    return [r if r is not None else Response(error="internal: no response") for r in responses]


def _prepare(state: Loaded, probe: Probe) -> _Prepared:
    images = []
    for k, image in enumerate(probe.images):
        try:
            images.append(image.to_pil())
        except Exception as exc:
            raise ValueError(f"image {k} ({image.sha256[:12]}) is unreadable: {exc}") from exc
    return _Prepared(build_prompt(state.processor, probe.text, len(images), probe.system), images)


def _run(state: Loaded, probes: Sequence[Probe], prepared: list[_Prepared], params: GenerationParams) -> list[Response]:
    import torch

    start = time.perf_counter()
    inputs: dict[str, Any] = {"text": [p.prompt for p in prepared], "padding": True, "return_tensors": "pt"}
    images = [image for p in prepared for image in p.images]
    if images:
        inputs["images"] = images
    encoded = {
        k: v.to(state.device, dtype=state.dtype if torch.is_floating_point(v) else None)
        for k, v in state.processor(**inputs).items()
        if isinstance(v, torch.Tensor)
    }
    sample = params.temperature > 0
    kwargs: dict[str, Any] = {
        "max_new_tokens": params.max_new_tokens,
        "do_sample": sample,
        "pad_token_id": state.tokenizer.pad_token_id,
    }
    if sample:
        kwargs["temperature"] = params.temperature
        # Same probes, same draw: the seed comes from what is asked, not from global RNG state.
        seed = int(stable_hash([[p.sample_id, p.index, p.text] for p in probes]), 16) % (2**31)
        devices = [state.device.index or 0] if state.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.inference_mode():
            torch.manual_seed(seed)
            output = state.model.generate(**encoded, **kwargs)
    else:
        kwargs.update(temperature=None, top_p=None, top_k=None)  # override sampling defaults
        with torch.inference_mode():
            output = state.model.generate(**encoded, **kwargs)
    elapsed = time.perf_counter() - start
    new_tokens = output[:, encoded["input_ids"].shape[1] :].tolist()
    tokens_in = encoded["attention_mask"].sum(dim=1).tolist()
    responses = []
    for ids, n_in in zip(new_tokens, tokens_in, strict=True):
        n_out = next((k + 1 for k, t in enumerate(ids) if t in state.eos_ids), len(ids))
        text = state.tokenizer.decode(ids[:n_out], skip_special_tokens=True).strip()
        responses.append(Response(text=text, tokens_in=int(n_in), tokens_out=n_out, latency_s=elapsed))
    return responses
