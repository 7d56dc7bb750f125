"""The transformers adapter: any image-text-to-text checkpoint, local folder or hub id + revision.

Safety defaults matter here because the nightly job loads checkpoints nobody has looked at:
safetensors only (pickle weights can run code on load) and no remote code unless asked.
Generation is batched with left padding; a probe that cannot be prepared, or that breaks its
batch, costs one error Response, never the batch. torch and transformers are imported inside
functions so that listing the adapter registry stays fast.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.checkpoint import content_revision, is_complete, require_safe_weights
from adapters.intake import check_hub_download
from mmwatch.plugins import adapter
from mmwatch.types import GenerationParams, Probe, Response, stable_hash

DTYPES = ("auto", "float32", "bfloat16", "float16")


@dataclass(frozen=True)
class HFOptions:
    path: str
    revision: str | None = None
    device: str = "auto"
    dtype: str = "auto"
    trust_remote_code: bool = False
    batch_size: int = 8
    allow_pickle: bool = False
    expected_bytes: int | None = None  # size of the hub weights, from discovery: checked against free disk
    min_free_gb: float = 10.0

    @property
    def local(self) -> Path | None:
        p = Path(self.path).expanduser()
        return p if p.exists() else None


@adapter("hf", version=1, supports_gradients=True)
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


@dataclass
class _Loaded:
    model: Any
    processor: Any
    tokenizer: Any
    device: Any
    dtype: Any
    eos_ids: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class _Prepared:
    prompt: str
    images: list[Any]


class HFAdapter:
    """ModelAdapter over a transformers model; also hands model + processor to white-box attacks."""

    supports_gradients = True

    def __init__(self, options: HFOptions) -> None:
        self.options = options
        self._state: _Loaded | None = None
        self._fits: int | None = None  # the largest batch known to fit in GPU memory

    def model_and_processor(self) -> tuple[Any, Any]:
        state = self._load()
        return state.model, state.processor

    def gradient_model(self) -> Any:
        """Loss and pixel gradients for white-box attacks (adapters.gradients.HFGradientModel)."""
        from adapters.gradients import HFGradientModel

        state = self._load()
        return HFGradientModel(state.model, state.processor, state.device, state.dtype)

    def revision_id(self) -> str:
        """The hub revision if given, else the content hash of the local folder."""
        folder = self.options.local
        if self.options.revision or folder is None:
            return self.options.revision or "main"
        return content_revision(folder)

    def generate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        """Batches of the configured size, halved for good whenever one runs out of GPU memory."""
        state = self._load()
        out: list[Response] = []
        start = 0
        while start < len(probes):
            size = min(params.batch_size, self.options.batch_size, self._fits or len(probes))
            try:
                out.extend(_generate_batch(state, probes[start : start + size], params, oom_raises=size > 1))
            except _BatchTooLarge:
                self._fits = max(1, size // 2)
                _free_cuda_cache()
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

    def _load(self) -> _Loaded:
        if self._state is None:
            self._state = _load(self.options)
        return self._state


def _looks_local(path: str) -> bool:
    """Hub ids are `name` or `org/name`; anything else that does not exist is a missing folder."""
    return path.startswith(("/", ".", "~")) or path.count("/") > 1 or "\\" in path


def resolve_device(device: str) -> Any:
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_dtype(dtype: str, device: Any) -> Any:
    import torch

    if dtype == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return getattr(torch, dtype)


def _load(options: HFOptions) -> _Loaded:
    if options.local is None:  # a hub download: refuse it before it fills the disk
        check_hub_download(options.path, options.revision, options.expected_bytes, options.min_free_gb)
    from transformers import AutoModelForImageTextToText, AutoProcessor

    device = resolve_device(options.device)
    dtype = resolve_dtype(options.dtype, device)
    common = {"revision": options.revision, "trust_remote_code": options.trust_remote_code}
    processor = AutoProcessor.from_pretrained(options.path, **common)
    model = AutoModelForImageTextToText.from_pretrained(
        options.path,
        dtype=dtype,
        use_safetensors=None if options.allow_pickle else True,  # None: prefer safetensors
        **common,
    )
    model.to(device).eval()
    tokenizer = getattr(processor, "tokenizer", processor)
    tokenizer.padding_side = "left"  # decoder-only batches must end where generation starts
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    eos = model.generation_config.eos_token_id
    eos_ids = {*(eos if isinstance(eos, list) else [eos]), tokenizer.eos_token_id} - {None}
    return _Loaded(model, processor, tokenizer, device, dtype, frozenset(eos_ids))


def _where(probe: Probe) -> str:
    return f"probe {probe.sample_id}#{probe.index}"


class _BatchTooLarge(Exception):
    """The batch ran out of GPU memory; the caller halves the batch size and retries."""


def _is_oom(exc: BaseException) -> bool:
    return type(exc).__name__ == "OutOfMemoryError" or "out of memory" in str(exc).lower()


def _free_cuda_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _generate_batch(state: _Loaded, probes: Sequence[Probe], params: GenerationParams,
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
                raise _BatchTooLarge from exc
            for i, prep in prepared.items():
                try:
                    responses[i] = _run(state, [probes[i]], [prep], params)[0]
                except Exception as exc:
                    responses[i] = Response(error=f"{_where(probes[i])}: generation failed: {type(exc).__name__}: {exc}")
    return [r if r is not None else Response(error="internal: no response") for r in responses]


def _prepare(state: _Loaded, probe: Probe) -> _Prepared:
    images = []
    for k, image in enumerate(probe.images):
        try:
            images.append(image.to_pil())
        except Exception as exc:
            raise ValueError(f"image {k} ({image.sha256[:12]}) is unreadable: {exc}") from exc
    return _Prepared(build_prompt(state.processor, probe.text, len(images), probe.system), images)


def build_prompt(processor: Any, text: str, n_images: int, system: str | None = None) -> str:
    """The prompt string: the processor's (or tokenizer's) chat template, else plain text.

    Templates that reject a system turn get the system text in front of the user's text.
    """
    tokenizer = getattr(processor, "tokenizer", processor)
    image_token = getattr(processor, "image_token", None) or "<image>"
    if processor is not tokenizer and getattr(processor, "chat_template", None):
        owner, parts = processor, [{"type": "image"}] * n_images
    elif getattr(tokenizer, "chat_template", None):
        owner, parts = tokenizer, None  # text-only templates expect string content
    else:
        head = f"{system}\n\n" if system else ""
        return image_token * n_images + head + text

    def content(body: str) -> Any:
        if parts is None:
            return image_token * n_images + body
        return [*parts, {"type": "text", "text": body}]

    messages = [{"role": "user", "content": content(text)}]
    if system:
        system_turn = {"role": "system", "content": system if parts is None else [{"type": "text", "text": system}]}
        try:
            return owner.apply_chat_template([system_turn, *messages], add_generation_prompt=True, tokenize=False)
        except Exception:
            messages = [{"role": "user", "content": content(f"{system}\n\n{text}")}]
    return owner.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def _run(state: _Loaded, probes: Sequence[Probe], prepared: list[_Prepared], params: GenerationParams) -> list[Response]:
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
