"""The vLLM adapter: the offline engine, all of a shard's probes submitted at once.

vLLM schedules the whole list with continuous batching, so one `generate` call per shard keeps
the GPU full. It needs a GPU and the `[gpu]` extra (`pip install 'mmwatch[gpu]'`); it is
imported only when this adapter is built. Messages use the OpenAI chat format (images as data
URLs), the same as the `openai` adapter, so a checkpoint answers the same probe the same way
whether it runs here or behind a server.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from adapters.openai_api import user_content
from mmwatch.plugins import Hardware, adapter, gpu_limit
from mmwatch.types import GenerationParams, Probe, Response

INSTALL_HINT = "the vllm adapter needs vLLM and a GPU: pip install 'mmwatch[gpu]'"


def chat_messages(probe: Probe) -> list[dict[str, Any]]:
    """One conversation per probe: optional system turn, then images and text in the user turn."""
    messages: list[dict[str, Any]] = []
    if probe.system:
        messages.append({"role": "system", "content": probe.system})
    messages.append({"role": "user", "content": user_content(probe)})
    return messages


class VLLMAdapter:
    """ModelAdapter over a vLLM offline engine: a whole shard of probes in one `chat` call."""

    def __init__(self, llm: Any, sampling_cls: Any, seed: int) -> None:
        self.llm = llm
        self.sampling_cls = sampling_cls
        self.seed = seed

    def generate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        if not probes:
            return []
        sampling = self.sampling_cls(temperature=params.temperature, max_tokens=params.max_new_tokens,
                                     seed=self.seed)
        start = time.perf_counter()
        try:
            outputs = self.llm.chat([chat_messages(p) for p in probes], sampling, use_tqdm=False)
        except Exception as exc:  # one bad request fails the call: retry one by one
            if len(probes) == 1:
                return [Response(error=f"vllm: {type(exc).__name__}: {exc}")]
            return [r for p in probes for r in self.generate([p], params)]
        latency = time.perf_counter() - start
        return [
            Response(text=out.outputs[0].text, tokens_in=len(out.prompt_token_ids or []),
                     tokens_out=len(out.outputs[0].token_ids), latency_s=latency)
            for out in outputs
        ]

    def close(self) -> None:
        del self.llm


@adapter("vllm", version=1, operational_params=("gpu_memory_utilization", "max_images"), hardware=Hardware.GPU,
         whole_shard=True, limit=gpu_limit)
def vllm(path: str, revision: str | None = None, dtype: str = "auto", trust_remote_code: bool = False,
         max_images: int = 4, gpu_memory_utilization: float = 0.85, max_model_len: int | None = None,
         seed: int = 0) -> VLLMAdapter:
    """A local or hub checkpoint served by vLLM's offline engine (GPU)."""
    try:
        from vllm import LLM, SamplingParams
    except ImportError as exc:
        raise ImportError(f"{INSTALL_HINT} ({exc})") from exc
    llm = LLM(model=path, revision=revision, dtype=dtype, trust_remote_code=trust_remote_code,
              limit_mm_per_prompt={"image": max_images}, gpu_memory_utilization=gpu_memory_utilization,
              max_model_len=max_model_len, seed=seed)
    return VLLMAdapter(llm, SamplingParams, seed)
