"""The `hf` adapter: any transformers image-text-to-text checkpoint, a local folder or a hub id + revision.

The plugin and its batching live here; loading (safe weights, device, dtype), one batch of
generation, the chat prompt and the gradient model for white-box attacks each have a module of
their own in this package. torch and transformers are imported only when a model is loaded, so
listing the adapter registry stays fast.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.checkpoint import content_revision, is_complete, require_safe_weights
from adapters.hf.generation import BatchTooLarge, free_cuda_cache, generate_batch
from adapters.hf.loading import DTYPES, HFOptions, Loaded, load
from mmwatch.plugins import Hardware, adapter, gpu_limit
from mmwatch.types import GenerationParams, Probe, Response

if TYPE_CHECKING:
    from adapters.hf.gradients import HFGradientModel


def weights_revision(params: Mapping[str, Any]) -> str | None:
    """The hub revision the params pin, else the content hash of a local folder (None if neither)."""
    if params.get("revision"):
        return str(params["revision"])
    folder = Path(str(params.get("path", ""))).expanduser()
    return content_revision(folder) if params.get("path") and folder.is_dir() else None


# What changes answers: the weights (path + revision), the modeling code (trust_remote_code picks the
# repo's own) and the numerics (dtype). Where and in what batches they run, and what intake checked,
# does not. The path stays in the key on purpose: a config-named revision ("v1") does not prove that
# a folder still holds the same weights, so a moved checkpoint is evaluated again.
OPERATIONAL = ("device", "batch_size", "allow_pickle", "expected_bytes", "min_free_gb")


@adapter("hf", version=1, supports_gradients=True, operational_params=OPERATIONAL, revision=weights_revision,
         hardware=Hardware.GPU, limit=gpu_limit)
def hf(
    path: str,
    revision: str | None = None,
    device: str = "auto",
    dtype: str = "auto",
    trust_remote_code: bool = False,
    batch_size: int = 8,
    allow_pickle: bool = False,
    expected_bytes: int | None = None,
    min_free_gb: float = 10.0,
) -> HFAdapter:
    """A transformers image-text-to-text model; weights load on first use."""
    if dtype not in DTYPES:
        raise ValueError(f"hf adapter: dtype {dtype!r} is not one of {', '.join(DTYPES)}")
    if batch_size < 1:
        raise ValueError(f"hf adapter: batch_size must be >= 1, got {batch_size}")
    if min_free_gb < 0:
        raise ValueError(f"hf adapter: min_free_gb must be >= 0, got {min_free_gb}")
    options = HFOptions(str(path), revision, device, dtype, trust_remote_code, batch_size, allow_pickle,
                        expected_bytes, min_free_gb)
    folder = options.local
    if folder is not None:
        require_safe_weights(folder, allow_pickle)
        ok, why = is_complete(folder, allow_pickle=allow_pickle)
        if not ok:
            raise ValueError(f"hf adapter: incomplete checkpoint: {why}")
    elif _looks_local(options.path):
        raise FileNotFoundError(f"hf adapter: checkpoint folder not found: {options.path}")
    return HFAdapter(options)


class HFAdapter:
    """ModelAdapter over a transformers model; a GradientAdapter for white-box attacks too."""

    def __init__(self, options: HFOptions) -> None:
        self.options = options
        self._state: Loaded | None = None
        self._fits: int | None = None  # the largest batch known to fit in GPU memory

    def load(self) -> None:
        """Load the weights now: a unit does this first, so a model that cannot load fails as a
        whole (reported as such) instead of as one error row per cell."""
        self._load()

    def model_and_processor(self) -> tuple[Any, Any]:
        state = self._load()
        return state.model, state.processor

    def gradient_model(self) -> HFGradientModel:
        """Loss and pixel gradients for white-box attacks."""
        from adapters.hf.gradients import HFGradientModel

        state = self._load()
        return HFGradientModel(state.model, state.processor, state.device, state.dtype)

    def generate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        """Batches of the configured size, halved for good whenever one runs out of GPU memory."""
        state = self._load()
        out: list[Response] = []
        start = 0
        while start < len(probes):
            size = min(params.batch_size, self.options.batch_size, self._fits or len(probes))
            try:
                out.extend(generate_batch(state, probes[start : start + size], params, oom_raises=size > 1))
            except BatchTooLarge:
                self._fits = max(1, size // 2)
                free_cuda_cache()
                continue
            start += size
        return out

    def close(self) -> None:
        if self._state is None:
            return
        on_cuda = self._state.device.type == "cuda"
        self._state = None
        gc.collect()
        if on_cuda:
            import torch

            torch.cuda.empty_cache()

    def _load(self) -> Loaded:
        if self._state is None:
            self._state = load(self.options)
        return self._state


def _looks_local(path: str) -> bool:
    """Hub ids are `name` or `org/name`; anything else that does not exist is a missing folder."""
    return path.startswith(("/", ".", "~")) or path.count("/") > 1 or "\\" in path
