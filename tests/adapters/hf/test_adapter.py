"""The transformers adapter on tiny local checkpoints: batching, errors, templates, safety rules."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from adapters.checkpoint import PickleWeightsError
from adapters.hf.adapter import HFAdapter, hf, weights_revision
from adapters.hf.loading import resolve_device, resolve_dtype
from adapters.hf.prompt import build_prompt
from mmwatch.plugins import GradientAdapter
from mmwatch.types import GenerationParams, ImageData, Probe

GREEDY = GenerationParams(max_new_tokens=12)
CORRUPT = ImageData(png=b"\x89PNG\r\n\x1a\n this is not really a png")


def _probe(sid: str, text: str = "What is shown here?", *images: ImageData, system: str | None = None) -> Probe:
    return Probe(sample_id=sid, text=text, images=tuple(images), system=system)


def _texts(adapter: HFAdapter, probes: list[Probe], params: GenerationParams = GREEDY) -> list[str]:
    responses = adapter.generate(probes, params)
    assert all(r.error is None for r in responses), [r.error for r in responses]
    return [r.text for r in responses]


def _count_batches(adapter: HFAdapter, fail: Any = None) -> list[int]:
    """Wrap the model's generate to record batch sizes and optionally fail on some inputs."""
    model, _ = adapter.model_and_processor()
    original, sizes = model.generate, []

    def spy(**kwargs: Any) -> Any:
        sizes.append(kwargs["input_ids"].shape[0])
        if fail is not None and fail(kwargs):
            raise RuntimeError("injected failure")
        return original(**kwargs)

    model.generate = spy
    return sizes


def test_is_a_model_adapter_with_gradients(llava_adapter: HFAdapter) -> None:
    import torch

    assert isinstance(llava_adapter, GradientAdapter)
    model, processor = llava_adapter.model_and_processor()
    assert type(model).__name__ == "LlavaForConditionalGeneration" and processor.tokenizer.padding_side == "left"
    assert next(model.parameters()).dtype == torch.float32 and model.device.type == "cpu"
    inputs = processor(text=["<image>hi"], images=[ImageData.from_pil(_pil()).to_pil()], return_tensors="pt")
    pixels = inputs["pixel_values"].requires_grad_(True)
    model(**{**inputs, "pixel_values": pixels}).logits.sum().backward()
    assert pixels.grad is not None and pixels.grad.abs().sum() > 0  # white-box attacks can use it


def _pil() -> Any:
    from PIL import Image

    return Image.new("RGB", (30, 30), (10, 200, 10))


def test_generate_with_and_without_images(llava_adapter: HFAdapter, red: ImageData) -> None:
    with_image, text_only = llava_adapter.generate([_probe("a", "Describe it.", red), _probe("b", "Hello there.")], GREEDY)
    for r in (with_image, text_only):
        assert r.error is None and r.text == r.text.strip()
        assert 1 <= r.tokens_out <= GREEDY.max_new_tokens and r.tokens_in > 5 and r.latency_s > 0
    assert "<image>" not in with_image.text
    # 4 image tokens (28px / 14px patch = 2x2) replace the one <image> placeholder.
    alone = llava_adapter.generate([_probe("a", "Describe it.")], GREEDY)[0]
    assert with_image.tokens_in == alone.tokens_in + 4


def test_the_image_changes_the_answer(llava_adapter: HFAdapter, red: ImageData, checker: ImageData) -> None:
    a, b = _texts(llava_adapter, [_probe("a", "What is this?", red), _probe("b", "What is this?", checker)])
    assert a != b


def test_greedy_is_deterministic_and_batch_equals_single(llava_adapter: HFAdapter, red: ImageData, checker: ImageData) -> None:
    probes = [_probe("a", "Short.", red), _probe("b", "A much longer question about the picture, please?", checker), _probe("c", "Text only.")]
    first = _texts(llava_adapter, probes)
    assert _texts(llava_adapter, probes) == first
    assert [_texts(llava_adapter, [p])[0] for p in probes] == first  # left padding changes nothing


def test_corrupt_image_fails_only_its_probe(llava_adapter: HFAdapter, red: ImageData) -> None:
    probes = [_probe("ok1", "One?", red), _probe("broken", "Two?", CORRUPT), _probe("ok2", "Three?")]
    responses = llava_adapter.generate(probes, GREEDY)
    assert [r.error is None for r in responses] == [True, False, True]
    assert "broken#0" in responses[1].error and "image 0" in responses[1].error
    assert [r.text for r in (responses[0], responses[2])] == _texts(llava_adapter, [probes[0], probes[2]])


def test_batches_follow_params_and_the_adapter_cap(tiny_llava: Path, red: ImageData) -> None:
    probes = [_probe(f"s{i}", f"Question {i}?", *([red] if i % 2 else [])) for i in range(5)]
    adapter = hf(str(tiny_llava))
    sizes = _count_batches(adapter)
    batched = _texts(adapter, probes, GenerationParams(max_new_tokens=8, batch_size=2))
    assert sizes == [2, 2, 1]
    capped = hf(str(tiny_llava), batch_size=1)
    sizes = _count_batches(capped)
    assert _texts(capped, probes, GenerationParams(max_new_tokens=8, batch_size=8)) == batched  # order kept
    assert sizes == [1] * 5


def test_failing_batch_falls_back_to_single_probes(tiny_llava: Path, red: ImageData) -> None:
    adapter = hf(str(tiny_llava))
    probes = [_probe("img", "A?", red), _probe("txt1", "B?"), _probe("txt2", "C?")]
    sizes = _count_batches(adapter, fail=lambda kw: kw["input_ids"].shape[0] > 1 or "pixel_values" in kw)
    responses = adapter.generate(probes, GREEDY)
    assert sizes == [3, 1, 1, 1]
    assert "img#0" in responses[0].error and "injected failure" in responses[0].error
    assert responses[1].error is None and responses[2].error is None


def test_sampling_is_seeded_by_the_probes(llava_adapter: HFAdapter, red: ImageData) -> None:
    import torch

    hot = GenerationParams(max_new_tokens=16, temperature=1.5)
    probes = [_probe("a", "Tell me.", red), _probe("b", "Tell me more.")]
    state = torch.random.get_rng_state()
    first = _texts(llava_adapter, probes, hot)
    assert torch.equal(torch.random.get_rng_state(), state)  # global RNG untouched
    assert _texts(llava_adapter, probes, hot) == first


def test_system_message_goes_into_the_template(llava_adapter: HFAdapter) -> None:
    _, processor = llava_adapter.model_and_processor()
    prompt = build_prompt(processor, "What is it?", 2, system="You are careful.")
    assert prompt.index("<|system|>\nYou are careful.") < prompt.index("<|user|>\n<image><image>What is it?")
    assert prompt.endswith("<|assistant|>\n")
    plain, with_system = llava_adapter.generate([_probe("a", "Hi."), _probe("a", "Hi.", system="Be brief.")], GREEDY)
    assert with_system.tokens_in > plain.tokens_in


class _Tokenizer:
    chat_template = None


class _NoSystemProcessor:
    """A processor whose template rejects system turns, like some real LLaVA templates."""

    chat_template = "x"
    image_token = "<img>"
    tokenizer = _Tokenizer()

    def apply_chat_template(self, messages: list[dict[str, Any]], **kwargs: Any) -> str:
        if messages[0]["role"] == "system":
            raise ValueError("System role not supported")
        parts = messages[0]["content"]
        return "".join("<img>" if p["type"] == "image" else p["text"] for p in parts)


class _TextTemplateTokenizer:
    chat_template = "x"

    def apply_chat_template(self, messages: list[dict[str, Any]], **kwargs: Any) -> str:
        return "|".join(f"{m['role']}:{m['content']}" for m in messages)


def test_prompt_fallbacks() -> None:
    assert build_prompt(_NoSystemProcessor(), "Q?", 1, system="S.") == "<img>S.\n\nQ?"
    bare = _NoSystemProcessor()
    bare.chat_template = None
    assert build_prompt(bare, "Q?", 2, system="S.") == "<img><img>S.\n\nQ?"
    assert build_prompt(bare, "Q?", 0) == "Q?"
    text_only = _TextTemplateTokenizer()  # a tokenizer used as its own processor
    assert build_prompt(text_only, "Q?", 1, system="S.") == "system:S.|user:<image>Q?"


def test_two_seeds_answer_differently(llava_adapter: HFAdapter, tiny_llava_2: Path, red: ImageData) -> None:
    probes = [_probe("a", "What is this?", red), _probe("b", "Say something.")]
    other = hf(str(tiny_llava_2))
    assert _texts(other, probes) != _texts(llava_adapter, probes)
    assert weights_revision({"path": str(tiny_llava_2)}) != weights_revision({"path": llava_adapter.options.path})


def test_idefics3_mixed_batch(tiny_idefics3: Path, red: ImageData, checker: ImageData) -> None:
    adapter = hf(str(tiny_idefics3))
    probes = [_probe("a", "One?", red), _probe("b", "Two?"), _probe("c", "Three?", CORRUPT), _probe("d", "Four?", checker, system="Be safe.")]
    responses = adapter.generate(probes, GREEDY)
    assert [r.error is None for r in responses] == [True, True, False, True]
    assert [responses[i].text for i in (0, 1, 3)] == [_texts(adapter, [probes[i]])[0] for i in (0, 1, 3)]
    adapter.close()


def test_pickle_only_folder_is_refused_unless_allowed(tiny_llava: Path, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    folder = Path(shutil.copytree(tiny_llava, tmp_path / "pickled"))
    torch.save(load_file(folder / "model.safetensors"), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    with pytest.raises(PickleWeightsError, match="allow_pickle=True"):
        hf(str(folder))
    adapter = hf(str(folder), allow_pickle=True)
    assert _texts(adapter, [_probe("a", "Hi.")]) == _texts(hf(str(tiny_llava)), [_probe("a", "Hi.")])


def test_bad_paths_and_options_fail_clearly(tiny_llava: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="checkpoint folder not found"):
        hf(str(tmp_path / "no" / "such"))
    half = Path(shutil.copytree(tiny_llava, tmp_path / "half"))
    (half / "config.json").unlink()
    with pytest.raises(ValueError, match="incomplete checkpoint.*config.json"):
        hf(str(half))
    with pytest.raises(ValueError, match="dtype 'int8'"):
        hf(str(tiny_llava), dtype="int8")
    hub = hf("some-org/some-model", revision="abc123")  # nothing loads until first use
    assert weights_revision({"path": "some-org/some-model", "revision": "abc123"}) == "abc123"
    assert hub.options.trust_remote_code is False


def test_auto_device_and_dtype(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto").type == "cpu"
    assert resolve_dtype("auto", resolve_device("auto")) == torch.float32
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    cuda = resolve_device("auto")
    assert cuda.type == "cuda" and resolve_dtype("auto", cuda) == torch.bfloat16
    assert resolve_dtype("float16", resolve_device("cpu")) == torch.float16


def test_close_then_generate_reloads(tiny_llava: Path) -> None:
    adapter = hf(str(tiny_llava))
    before = _texts(adapter, [_probe("a", "Hi.")])
    adapter.close()
    assert adapter._state is None
    assert _texts(adapter, [_probe("a", "Hi.")]) == before


def test_registered_as_hf(tiny_llava: Path) -> None:
    pytest.importorskip("adapters.reference", reason="registry needs every builtin adapter module")
    from mmwatch.plugins import adapters

    plugin = adapters.build("hf", {"path": str(tiny_llava)})
    assert plugin.spec.params["allow_pickle"] is False
    assert isinstance(plugin.obj, HFAdapter)


def test_out_of_memory_halves_the_batch_and_remembers(tiny_llava, monkeypatch) -> None:
    """A batch that runs out of GPU memory is retried smaller; every probe still gets its answer."""
    import adapters.hf.generation as hf_module
    from mmwatch import plugins
    from mmwatch.types import GenerationParams, Probe

    adapter = plugins.adapters.build("hf", {"path": str(tiny_llava), "batch_size": 8}).obj
    real_run = hf_module._run
    sizes: list[int] = []

    def run_with_memory_limit(state, probes, prepared, params):
        sizes.append(len(probes))
        if len(probes) > 3:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_run(state, probes, prepared, params)

    monkeypatch.setattr(hf_module, "_run", run_with_memory_limit)
    probes = [Probe(sample_id=f"t:{i}", text=f"hello {i}") for i in range(6)]
    out = adapter.generate(probes, GenerationParams(max_new_tokens=3, batch_size=8))
    assert len(out) == 6 and all(r.error is None for r in out)
    assert sizes == [6, 3, 3] and adapter._fits == 3
