from __future__ import annotations

import importlib.util
import os

import pytest
from PIL import Image

from adapters.vllm_engine import VLLMAdapter, chat_messages
from mmwatch import plugins
from mmwatch.types import GenerationParams, ImageData, Probe

HAS_VLLM = importlib.util.find_spec("vllm") is not None


def test_messages_carry_system_images_and_text_in_openai_format() -> None:
    image = ImageData.from_pil(Image.new("RGB", (4, 4), "red"))
    messages = chat_messages(Probe(sample_id="s:1", system="Be safe.", text="What is it?", images=(image,)))
    assert messages[0] == {"role": "system", "content": "Be safe."}
    parts = messages[1]["content"]
    assert parts[0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert parts[-1] == {"type": "text", "text": "What is it?"}


def test_registered_with_lazy_import() -> None:
    import sys

    plugins.adapters.info("vllm")
    assert HAS_VLLM or "vllm" not in sys.modules  # listing the registry does not import the engine


@pytest.mark.skipif(HAS_VLLM, reason="vllm is installed: the missing-extra message cannot be shown")
def test_without_vllm_the_error_names_the_extra() -> None:
    with pytest.raises(ImportError, match=r"mmwatch\[gpu\]"):
        plugins.adapters.build("vllm", {"path": "x"})


class FakeOutput:
    def __init__(self, text: str) -> None:
        self.prompt_token_ids = [1, 2, 3]
        self.outputs = [type("O", (), {"text": text, "token_ids": [4, 5]})()]


class ScriptedLLM:
    """Stands in for vllm.LLM, which cannot run without a GPU: records the single batched call."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[int] = []
        self.fail_on = fail_on

    def chat(self, conversations: list, sampling: dict, use_tqdm: bool) -> list[FakeOutput]:
        self.calls.append(len(conversations))
        texts = [c[-1]["content"] for c in conversations]
        if self.fail_on in texts:
            raise ValueError("bad request")
        return [FakeOutput(f"answer to {t}") for t in texts]


def test_a_shard_is_one_engine_call_and_a_bad_probe_fails_alone() -> None:
    llm = ScriptedLLM()
    adapter = VLLMAdapter(llm, lambda **kw: kw, seed=0)
    probes = [Probe(sample_id=f"s:{i}", text=f"q{i}") for i in range(5)]
    out = adapter.generate(probes, GenerationParams())
    assert llm.calls == [5] and [r.text for r in out] == [f"answer to q{i}" for i in range(5)]
    failing = VLLMAdapter(ScriptedLLM(fail_on="q2"), lambda **kw: kw, seed=0)
    out = failing.generate(probes, GenerationParams())
    assert [r.error is not None for r in out] == [False, False, True, False, False]


@pytest.mark.skipif(not HAS_VLLM or not os.environ.get("MMWATCH_VLLM_MODEL"),
                    reason="needs vllm (the [gpu] extra), a GPU and MMWATCH_VLLM_MODEL=<checkpoint>; "
                           "benchmarks/gpu/vllm_check.py runs the same check on a GPU machine")
def test_vllm_engine_answers_text_and_image_probes() -> None:  # GPU machines only
    adapter = plugins.adapters.build("vllm", {"path": os.environ["MMWATCH_VLLM_MODEL"]}).obj
    image = ImageData.from_pil(Image.new("RGB", (64, 64), "red"))
    out = adapter.generate([Probe(sample_id="s:1", text="Say hi."),
                            Probe(sample_id="s:2", text="What colour is this?", images=(image,))],
                           GenerationParams(max_new_tokens=8))
    assert all(r.error is None and r.text for r in out)
