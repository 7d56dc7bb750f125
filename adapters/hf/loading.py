"""Loading a transformers checkpoint: where it runs, in which dtype, and only from safe weights.

The nightly job loads checkpoints nobody has looked at, so weights are safetensors unless a
source explicitly allows pickle, remote code is off unless the lineage is allow-listed, and a
hub download that would fill the disk is refused before it starts. Pickle weights, when allowed,
are only ever unpickled with torch's weights-only unpickler (see `verify_pickle_weights`).
"""

from __future__ import annotations

import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.checkpoint import PickleWeightsError, loadable_pickle_files
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


WEIGHTS_ONLY_SINCE = "2.6"  # torch's weights-only unpickler before 2.6 could be bypassed (CVE-2025-32434)


def verify_pickle_weights(folder: Path) -> None:
    """Refuse, naming the file, any pickle weights file in `folder` that from_pretrained may load
    and that holds more than tensors and plain containers, i.e. could run code when unpickled.

    transformers 5 unpickles `.bin` with weights_only=True too, but only as the default of its own
    `load_state_dict`, which a release may change. So mmwatch checks first with its own
    `torch.load(weights_only=True)`, and also passes weights_only=True to from_pretrained (for hub
    files, and for a file swapped after this check). Passing it explicitly means the
    TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD variable cannot override it. Nothing global is patched. The
    state dict is not handed over from here either, so from_pretrained still reads the folder's
    generation config and shard layout itself. Tensors land on the meta device (memory-mapped
    where the format allows), so the check reads only the pickle stream, not the weights.
    """
    import torch

    require_safe_unpickler()
    for path in loadable_pickle_files(folder):
        try:
            torch.load(path, map_location="meta", weights_only=True, mmap=zipfile.is_zipfile(path))
        except pickle.UnpicklingError as exc:
            raise PickleWeightsError(f"{path}: refused: {_unpickler_reason(exc)}") from exc
        except (OSError, RuntimeError, EOFError, ValueError) as exc:
            raise ValueError(f"{path}: unreadable pickle weights ({type(exc).__name__}: {exc})") from exc


def require_safe_unpickler() -> None:
    """Refuse pickle weights outright under a torch whose weights-only unpickler is unsafe."""
    import torch
    from torch.torch_version import TorchVersion

    if TorchVersion(torch.__version__) < WEIGHTS_ONLY_SINCE:
        raise PickleWeightsError(
            f"torch {torch.__version__} cannot load pickle weights safely (needs >= {WEIGHTS_ONLY_SINCE})")


def _unpickler_reason(exc: BaseException) -> str:
    """torch's one line on what the file holds, without its advice to load it unsafely."""
    text = str(exc)
    marker = "WeightsUnpickler error: "
    if marker in text:
        text = text.split(marker, 1)[1].split("\n", 1)[0].split(" was not an allowed global", 1)[0]
    return f"holds objects other than tensors, which could run code when unpickled ({text.strip()})"


def load(options: HFOptions) -> Loaded:
    if options.local is None:  # a hub download: refuse it before it fills the disk
        check_hub_download(options.path, options.revision, options.expected_bytes, options.min_free_gb)
    if options.allow_pickle:  # refuse here, before transformers unpickles anything
        if options.local is not None:
            verify_pickle_weights(options.local)
        else:
            require_safe_unpickler()
    from transformers import AutoModelForImageTextToText, AutoProcessor

    device = resolve_device(options.device)
    dtype = resolve_dtype(options.dtype, device)
    common = {"revision": options.revision, "trust_remote_code": options.trust_remote_code}
    processor = AutoProcessor.from_pretrained(options.path, **common)
    try:
        model = AutoModelForImageTextToText.from_pretrained(
            options.path,
            dtype=dtype,
            use_safetensors=None if options.allow_pickle else True,  # None: prefer safetensors
            weights_only=True,  # explicit: mmwatch's rule, not a default a release may change
            **common,
        )
    except pickle.UnpicklingError as exc:  # a hub file, or one swapped after verify_pickle_weights
        raise PickleWeightsError(f"{options.path}: pickle weights refused: {_unpickler_reason(exc)}") from exc
    model.to(device).eval()
    tokenizer = getattr(processor, "tokenizer", processor)
    tokenizer.padding_side = "left"  # decoder-only batches must end where generation starts
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    eos = model.generation_config.eos_token_id
    eos_ids = {*(eos if isinstance(eos, list) else [eos]), tokenizer.eos_token_id} - {None}
    return Loaded(model, processor, tokenizer, device, dtype, frozenset(eos_ids))
