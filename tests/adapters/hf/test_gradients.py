"""Pixel gradients on tiny real checkpoints: the loss is the model's own, batching changes nothing."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from adapters.hf.gradients import HFGradientModel
from adapters.hf.adapter import HFAdapter, hf
from mmwatch import plugins
from mmwatch.types import GenerationParams, Sample, SampleKind

TEXTS = ("What is this?", "Describe the picture in a few words, please.", "Hi")


def _fresh(adapter: HFAdapter, max_rows: int = 32) -> HFGradientModel:
    model, processor = adapter.model_and_processor()
    weight = next(model.parameters())
    return HFGradientModel(model, processor, weight.device, weight.dtype, max_rows=max_rows)


def test_loss_is_the_models_own_label_loss(llava_adapter: HFAdapter) -> None:
    import torch

    gm = llava_adapter.gradient_model()
    pixels = gm.blank(1, 0.5)
    batch = gm.encode(["What is this?"], ["Sure, here it is"], [0], stop=True, like=pixels)
    loss, grad = gm.loss_and_grad(pixels, batch)
    labels = torch.full_like(batch.input_ids, -100)
    labels[:, -batch.labels.shape[1]:] = batch.labels
    model, _ = llava_adapter.model_and_processor()
    with torch.no_grad():
        reference = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                          pixel_values=gm._model_pixels(pixels), labels=labels).loss
    assert float(loss[0]) == pytest.approx(float(reference), rel=1e-5)
    assert grad.shape == pixels.shape and grad.abs().sum() > 0
    assert batch.input_ids[0, -1] == gm.tokenizer.eos_token_id  # stop=True ends the target with EOS


def test_each_image_gets_its_own_gradient_and_chunks_change_nothing(llava_adapter: HFAdapter) -> None:
    import torch

    gm, small = _fresh(llava_adapter), _fresh(llava_adapter, max_rows=2)
    pixels = torch.rand((3, *gm.blank(1).shape[1:]), generator=torch.Generator().manual_seed(0))
    targets = ["Sure", "Certainly! Here are the steps"]
    rows = [(i, t) for i in range(3) for t in targets]
    batch = gm.encode([TEXTS[i] for i, _ in rows], [t for _, t in rows], [i for i, _ in rows], stop=False,
                      like=pixels)
    loss, grad = gm.loss_and_grad(pixels, batch)
    loss_chunked, grad_chunked = small.loss_and_grad(pixels, batch)
    assert torch.allclose(loss, loss_chunked, atol=1e-5) and torch.allclose(grad, grad_chunked, atol=1e-6)
    alone = gm.encode([TEXTS[1]] * 2, targets, [0, 0], stop=False, like=pixels[1:2])
    loss_alone, grad_alone = gm.loss_and_grad(pixels[1:2], alone)
    assert float(loss_alone[0]) == pytest.approx(float(loss[1]), abs=1e-4)
    assert torch.allclose(grad_alone[0], grad[1], atol=1e-5)
    (whole, hits), (chunked, chunked_hits) = gm.evaluate(pixels, batch), small.evaluate(pixels, batch)
    assert whole == pytest.approx(loss.tolist(), abs=1e-5) and chunked == pytest.approx(whole, abs=1e-5)
    assert hits == chunked_hits == [False] * 6  # per row; random images: the model says something else


def test_frozen_restores_parameter_flags(llava_adapter: HFAdapter) -> None:
    gm = llava_adapter.gradient_model()
    model, _ = llava_adapter.model_and_processor()
    before = [p.requires_grad for p in model.parameters()]
    with gm.frozen():
        assert not any(p.requires_grad for p in model.parameters())
    assert [p.requires_grad for p in model.parameters()] == before


def test_images_come_back_at_the_models_resolution(llava_adapter: HFAdapter, red: Any) -> None:
    gm = llava_adapter.gradient_model()
    pixels = gm.pixels([red.to_pil()])  # 64 x 48 -> resized and centre-cropped like the processor does
    assert tuple(pixels.shape) == (1, 3, 28, 28) and 0 <= float(pixels.min()) <= float(pixels.max()) <= 1
    assert float(pixels[0, 0].mean()) == pytest.approx(230 / 255, abs=0.02)


def test_a_processor_that_splits_images_is_refused() -> None:
    import torch

    def image_processor(**kwargs: Any) -> dict[str, Any]:
        return {"pixel_values": torch.zeros(1, 5, 3, 8, 8)}  # five crops of one image (anyres-style)

    image_processor.image_mean = image_processor.image_std = [0.5] * 3  # type: ignore[attr-defined]
    processor = SimpleNamespace(image_processor=image_processor)
    model = SimpleNamespace(generation_config=SimpleNamespace(suppress_tokens=None))
    gm = HFGradientModel(model, processor, torch.device("cpu"), torch.float32)
    with pytest.raises(ValueError, match="5 crops"):
        gm.pixels([None])


def test_idefics3_can_be_hijacked_too(tiny_idefics3: Path) -> None:
    adapter = hf(str(tiny_idefics3))
    samples = [Sample(benchmark="t", source_id=str(i), category="c", kind=SampleKind.BENIGN, text=t)
               for i, t in enumerate(TEXTS)]
    probes = [p[0] for p in plugins.attacks.build("pgd", {"target": "Sure", "init": "grey"}).obj(samples, adapter)]
    answers = adapter.generate(probes, GenerationParams(max_new_tokens=6))
    hits = [a.text.startswith("Sure") for a in answers]
    assert sum(hits) >= 2 and [p.attack_params["target_decodes"] for p in probes] == hits
    assert probes[0].attack_params["image_size"] == [32, 32]
    adapter.close()
