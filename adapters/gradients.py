"""Pixel gradients of a transformers image-text model: the model side of white-box attacks.

The core's PGD (mmwatch.attacks.pgd) never touches model code; it holds pixels in [0, 1] at
the model's own input resolution and asks this module for the loss of target texts and its
gradient. Doing the work here keeps the attack free of processor details, and lets it run at
the speed of a hand-written loop:

- Text is tokenised once (`encode`) and reused every step; only pixels change.
- Normalisation happens inside the differentiable step, so the optimised tensor is the image a
  PNG can hold (quantised to uint8, the processor maps it back to the same model input).
- Prompts are left-padded exactly as the adapter pads them for generation, targets follow, and
  position ids are computed from the mask as `generate` does, so a target that the loss says is
  likely is the one greedy decoding emits. Logits are computed for the target positions only.
- Parameters stop requiring gradients while an attack runs (`frozen`), then are restored.

Only processors that map one image to one crop (`pixel_values` of shape [N, 3, H, W] or
[N, 1, 3, H, W]: LLaVA-1.5, Idefics3 without splitting) are supported; others raise a clear
error instead of optimising the wrong tensor.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from adapters.hf import build_prompt


@dataclass(frozen=True)
class TextBatch:
    """Fixed token inputs: row r is prompt r followed by target r and belongs to image `owner[r]`."""

    input_ids: Any
    attention_mask: Any
    position_ids: Any
    labels: Any  # [rows, keep - 1]: target ids at the kept positions, -100 elsewhere
    owner: Any  # [rows] index of the image each row uses
    keep: int  # logits kept at the end of the sequence (target span + 1)
    extra: dict[str, Any]  # other processor outputs the model needs (e.g. pixel_attention_mask)
    one_per_image: bool  # row r uses image r: no gather, no per-image averaging


class HFGradientModel:
    """Loss and pixel gradient of target texts for one loaded transformers model."""

    def __init__(self, model: Any, processor: Any, device: Any, dtype: Any) -> None:
        self.model, self.processor, self.device, self.dtype = model, processor, device, dtype
        self.tokenizer = getattr(processor, "tokenizer", processor)
        ip = processor.image_processor
        self._normalize = bool(getattr(ip, "do_normalize", True))
        import torch

        self._mean = torch.tensor(ip.image_mean, device=device, dtype=torch.float32).view(1, 3, 1, 1)
        self._std = torch.tensor(ip.image_std, device=device, dtype=torch.float32).view(1, 3, 1, 1)
        self._five_d = False
        suppress = getattr(model.generation_config, "suppress_tokens", None) or []
        self._suppress = torch.tensor(sorted(suppress), dtype=torch.long, device=device)

    # --- images -------------------------------------------------------------------------
    def pixels(self, images: Sequence[Any]) -> Any:
        """PIL images -> float32 [N, 3, H, W] in [0, 1] at the model's input resolution."""
        out = self.processor.image_processor(images=list(images), do_normalize=False, return_tensors="pt")
        values = out["pixel_values"]
        if values.dim() == 5:
            if values.shape[1] != 1:
                raise ValueError(f"pgd: processor splits one image into {values.shape[1]} crops; unsupported")
            self._five_d, values = True, values[:, 0]
        if values.dim() != 4 or values.shape[1] != 3:
            raise ValueError(f"pgd: unsupported pixel_values shape {tuple(values.shape)} (want [N, 3, H, W])")
        return values.to(self.device, dtype=self._mean.dtype)

    def blank(self, n: int, value: float = 1.0) -> Any:
        """N flat images of one grey level at the model's resolution (value 1.0 is white)."""
        from PIL import Image

        level = round(value * 255)
        like = self.pixels([Image.new("RGB", (64, 64), (level,) * 3)])
        return like.expand(n, -1, -1, -1).clone()

    def _model_pixels(self, pixels: Any) -> Any:
        x = (pixels - self._mean) / self._std if self._normalize else pixels
        x = x.to(self.dtype)
        return x.unsqueeze(1) if self._five_d else x

    # --- text ---------------------------------------------------------------------------
    def encode(self, texts: Sequence[str], targets: Sequence[str], owner: Sequence[int], stop: bool,
               like: Any) -> TextBatch:
        """Rows of (user text, target) for images `owner`; `stop` adds end-of-sequence to each target.

        `like` ([N, 3, H, W] pixels) only fixes how many image tokens the prompt expands to.
        """
        import torch
        from PIL import Image

        blank = Image.new("RGB", (like.shape[-1], like.shape[-2]), (255, 255, 255))
        prompts = [build_prompt(self.processor, t, 1) for t in texts]
        enc = self.processor(text=prompts, images=[blank] * len(prompts), padding=True, return_tensors="pt")
        tok = self.tokenizer
        eos = [tok.eos_token_id] if stop and tok.eos_token_id is not None else []
        tails = [tok(t, add_special_tokens=False).input_ids + eos for t in targets]
        if any(not t for t in tails):
            raise ValueError("pgd: a target text encodes to no tokens")
        width = max(len(t) for t in tails)
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        tail_ids = torch.full((len(tails), width), pad, dtype=torch.long)
        tail_mask = torch.zeros((len(tails), width), dtype=torch.long)
        labels = torch.full((len(tails), width), -100, dtype=torch.long)
        for r, ids in enumerate(tails):
            tail_ids[r, : len(ids)] = torch.tensor(ids)
            tail_mask[r, : len(ids)] = 1
            labels[r, : len(ids)] = torch.tensor(ids)
        input_ids = torch.cat([enc["input_ids"], tail_ids], dim=1)
        mask = torch.cat([enc["attention_mask"], tail_mask], dim=1)
        position_ids = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 0)
        extra = {k: v for k, v in enc.items()
                 if k not in ("input_ids", "attention_mask", "pixel_values") and isinstance(v, torch.Tensor)}
        dev, owner = self.device, list(owner)
        return TextBatch(input_ids.to(dev), mask.to(dev), position_ids.to(dev), labels.to(dev),
                         torch.tensor(owner, dtype=torch.long, device=dev), width + 1,
                         {k: v.to(dev) for k, v in extra.items()}, owner == list(range(like.shape[0])))

    # --- loss ---------------------------------------------------------------------------
    def _logits(self, pixels: Any, batch: TextBatch) -> Any:
        rows = self._model_pixels(pixels)
        rows = rows if batch.one_per_image else rows[batch.owner]
        out = self.model(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                         position_ids=batch.position_ids, pixel_values=rows, logits_to_keep=batch.keep,
                         **batch.extra)
        return out.logits[:, :-1].float()  # position t predicts token t + 1

    def _per_image(self, row_values: Any, batch: TextBatch, n: int) -> Any:
        import torch

        if batch.one_per_image:
            return row_values
        total = torch.zeros(n, device=row_values.device, dtype=row_values.dtype).index_add(0, batch.owner, row_values)
        count = torch.zeros(n, device=row_values.device, dtype=row_values.dtype).index_add(
            0, batch.owner, torch.ones_like(row_values))
        return total / count.clamp(min=1)

    def loss_and_grad(self, pixels: Any, batch: TextBatch) -> tuple[Any, Any]:
        """Mean target cross-entropy per image [N] (detached) and d(sum of losses)/d(pixels).

        Each image's gradient is that of its own loss, whatever else shares the batch.
        """
        import torch

        with torch.enable_grad():
            x = pixels.detach().requires_grad_(True)
            logits = self._logits(x, batch)
            ce = torch.nn.functional.cross_entropy(logits.transpose(1, 2), batch.labels, reduction="none")
            rows = ce.sum(1) / (batch.labels != -100).sum(1)
            losses = self._per_image(rows, batch, x.shape[0])
            (grad,) = torch.autograd.grad(losses.sum(), x)
        return losses.detach(), grad

    def evaluate(self, pixels: Any, batch: TextBatch) -> tuple[list[float], list[bool]]:
        """Per image, without gradients: the loss, and whether every row's target is the greedy
        continuation (teacher-forced argmax, with generate's suppressed tokens masked out)."""
        import torch

        with torch.no_grad():
            logits = self._logits(pixels, batch)
            ce = torch.nn.functional.cross_entropy(logits.transpose(1, 2), batch.labels, reduction="none")
            losses = self._per_image(ce.sum(1) / (batch.labels != -100).sum(1), batch, pixels.shape[0])
            if self._suppress.numel():
                logits[..., self._suppress] = float("-inf")
            ok = ((logits.argmax(-1) == batch.labels) | (batch.labels == -100)).all(1).float()
            hits = self._per_image(ok, batch, pixels.shape[0]) == 1
            return [float(v) for v in losses.tolist()], [bool(v) for v in hits.tolist()]

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Parameters need no gradients during an attack (saves their backward); restored after."""
        params = list(self.model.parameters())
        flags = [p.requires_grad for p in params]
        for p in params:
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p, flag in zip(params, flags, strict=True):
                p.requires_grad_(flag)
