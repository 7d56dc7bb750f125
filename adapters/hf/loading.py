"""Loading a transformers checkpoint: where it runs, in which dtype, and only from safe weights.

The nightly job loads checkpoints nobody has looked at, so weights are safetensors unless a
source explicitly allows pickle, remote code is off unless the lineage is allow-listed, and a
hub download that would fill the disk is refused before it starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.intake import check_hub_download

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


@dataclass
class Loaded:
    model: Any
    processor: Any
    tokenizer: Any
    device: Any
    dtype: Any
    eos_ids: frozenset[int] = field(default_factory=frozenset)


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


def load(options: HFOptions) -> Loaded:
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
    return Loaded(model, processor, tokenizer, device, dtype, frozenset(eos_ids))
