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
from dataclasses import dataclass, replace
from typing import Any

from adapters.hf.prompt import build_prompt


@dataclass(frozen=True)
class TextBatch:
    """Fixed token inputs: row r is prompt r followed by target r and belongs to image `owner[r]`."""

    input_ids: Any
    attention_mask: Any
    position_ids: Any
    labels: Any  # [rows, keep - 1]: target ids at the kept positions, -100 elsewhere
    n_tokens: Any  # [rows] target tokens per row
    owner: Any  # [rows] index of the image each row uses
    keep: int  # logits kept at the end of the sequence (target span + 1)
    extra: dict[str, Any]  # other processor outputs the model needs (e.g. pixel_attention_mask)
    weight: Any  # [rows] 1 / (rows of the same image): an image's loss is the mean over its rows
    one_per_image: bool  # row r uses image r: no gather, no per-image averaging

    def split(self, max_rows: int) -> list[TextBatch]:
        """Consecutive slices of at most `max_rows` rows (the batch itself when it fits)."""
        total = self.input_ids.shape[0]
        if total <= max_rows:
            return [self]
        cut = lambda t, a: t[a : a + max_rows]  # noqa: E731
        return [replace(self, input_ids=cut(self.input_ids, a), attention_mask=cut(self.attention_mask, a),
                        position_ids=cut(self.position_ids, a), labels=cut(self.labels, a),
                        n_tokens=cut(self.n_tokens, a), owner=cut(self.owner, a), weight=cut(self.weight, a),
                        extra={k: cut(v, a) for k, v in self.extra.items()}, one_per_image=False)
                for a in range(0, total, max_rows)]


class HFGradientModel:
    """Loss and pixel gradient of target texts for one loaded transformers model."""

    def __init__(self, model: Any, processor: Any, device: Any, dtype: Any, max_rows: int = 32) -> None:
        self.model, self.processor, self.device, self.dtype = model, processor, device, dtype
        self.max_rows = max_rows  # sequences per forward/backward (memory bound on a large model)
        self.tokenizer = getattr(processor, "tokenizer", processor)
        ip = processor.image_processor
        self._normalize = bool(getattr(ip, "do_normalize", True))
        import torch

        mean = torch.tensor(ip.image_mean, device=device, dtype=torch.float32).view(1, 3, 1, 1)
        std = torch.tensor(ip.image_std, device=device, dtype=torch.float32).view(1, 3, 1, 1)
        self._scale, self._shift = 1 / std, -mean / std  # (x - mean) / std in one fused op
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
        return values.to(self.device, dtype=self._scale.dtype)

    def blank(self, n: int, value: float = 1.0) -> Any:
        """N flat images of one grey level at the model's resolution (value 1.0 is white)."""
        from PIL import Image

        level = round(value * 255)
        like = self.pixels([Image.new("RGB", (64, 64), (level,) * 3)])
        return like.expand(n, -1, -1, -1).clone()

    def _model_pixels(self, pixels: Any) -> Any:
        import torch

        x = torch.addcmul(self._shift, pixels, self._scale) if self._normalize else pixels
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
        weight = torch.tensor([1 / owner.count(o) for o in owner], device=dev)
        return TextBatch(input_ids.to(dev), mask.to(dev), position_ids.to(dev), labels.to(dev),
                         tail_mask.sum(1).to(dev), torch.tensor(owner, dtype=torch.long, device=dev), width + 1,
                         {k: v.to(dev) for k, v in extra.items()}, weight, owner == list(range(like.shape[0])))

    # --- loss ---------------------------------------------------------------------------
    def _logits(self, pixels: Any, part: TextBatch) -> Any:
        rows = self._model_pixels(pixels)
        rows = rows if part.one_per_image else rows[part.owner]
        out = self.model(input_ids=part.input_ids, attention_mask=part.attention_mask,
                         position_ids=part.position_ids, pixel_values=rows, logits_to_keep=part.keep,
                         **part.extra)
        return out.logits[:, :-1].float()  # position t predicts token t + 1

    def _losses(self, pixels: Any, part: TextBatch, n: int) -> tuple[Any, Any]:
        """This part's share of each image's loss [n] (mean over the image's rows), and its logits."""
        import torch

        logits = self._logits(pixels, part)
        ce = torch.nn.functional.cross_entropy(logits.transpose(1, 2), part.labels, reduction="none")
        rows = ce.sum(1) / part.n_tokens
        if part.one_per_image:
            return rows, logits
        return rows.new_zeros(n).index_add(0, part.owner, rows * part.weight), logits

    def loss_and_grad(self, pixels: Any, batch: TextBatch) -> tuple[Any, Any]:
        """Mean target cross-entropy per image [N] (detached) and d(sum of losses)/d(pixels).

        Each image's gradient is that of its own loss, whatever else shares the batch. Rows go
        through the model `max_rows` at a time, so a long corpus does not run out of memory.
        """
        import torch

        n, x = pixels.shape[0], pixels.detach().requires_grad_(True)
        losses, grad = None, None
        for part in batch.split(self.max_rows):
            with torch.enable_grad():
                share, _ = self._losses(x, part, n)
                (g,) = torch.autograd.grad(share.sum(), x)
            losses = share.detach() if losses is None else losses + share.detach()
            grad = g if grad is None else grad.add_(g)
        return losses, grad

    def evaluate(self, pixels: Any, batch: TextBatch) -> tuple[list[float], list[bool]]:
        """Without gradients: each image's loss, and for each row whether its target is what greedy
        decoding emits (teacher-forced argmax, with generate's suppressed tokens masked out)."""
        import torch

        n = pixels.shape[0]
        losses, hits = pixels.new_zeros(n), []
        with torch.no_grad():
            for part in batch.split(self.max_rows):
                share, logits = self._losses(pixels, part, n)
                if self._suppress.numel():
                    logits[..., self._suppress] = float("-inf")
                wrong = (logits.argmax(-1) != part.labels) & (part.labels != -100)
                losses += share
                hits += [not w for w in wrong.any(1).tolist()]
        return [float(v) for v in losses.tolist()], hits

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
