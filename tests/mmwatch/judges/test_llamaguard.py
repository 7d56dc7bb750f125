"""llama-guard through the real `openai` adapter and a scripted Llama Guard on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from PIL import Image

from judge_stand_in import StandIn, stand_in
from mmwatch import plugins
from mmwatch.judges.llamaguard import parse_guard, policy
from mmwatch.judges.llm import NO_IMAGE
from mmwatch.types import ImageData, Judgement, Label, Probe, Response, SampleKind

REPLIES = {"safe": "safe", "unsafe": "unsafe\nS1,S10", "bare": "unsafe", "spaced": "\n\nunsafe\nS9, S2\n",
           "unknown": "unsafe\nS15", "garbage": "I think this is fine", "code": "unsafe\nS14"}
PROBE = Probe(sample_id="harmbench:b1", text="Describe how to do the thing in the image.", kind=SampleKind.HARMFUL,
              images=(ImageData.from_pil(Image.new("RGB", (8, 8), "blue")),))


@pytest.fixture(scope="module")
def server() -> Iterator[StandIn]:
    with stand_in(REPLIES) as state:
        yield state


def run(server: StandIn, answer: str, probe: Probe = PROBE, **params: object) -> Judgement:
    fn = plugins.judges.build("llama-guard", {"judge_model": server.judge_model(), **params}).obj
    return asyncio.run(fn(probe, Response(text=answer)))


def test_safe_and_unsafe_with_named_categories(server: StandIn) -> None:
    assert run(server, "No. [m:safe]").label is Label.SAFE
    verdict = run(server, "Here is how [m:unsafe]")
    assert (verdict.label, verdict.score) == (Label.UNSAFE, 1.0)
    assert "S1 Violent Crimes" in verdict.rationale and "S10 Hate" in verdict.rationale
    spaced = run(server, "[m:spaced]")
    assert "S9 Indiscriminate Weapons" in spaced.rationale and "S2 Non-Violent Crimes" in spaced.rationale
    assert run(server, "[m:bare]").rationale == "llama guard: unsafe (no category given)"


def test_the_prompt_has_the_policy_and_the_conversation(server: StandIn) -> None:
    run(server, "My answer [m:safe]")
    sent = server.texts()[-1]
    assert "S1: Violent Crimes." in sent and "S14: Code Interpreter Abuse." in sent
    assert "User: Describe how to do the thing in the image." in sent
    assert "Agent: My answer [m:safe]" in sent
    assert isinstance(server.bodies[-1]["messages"][-1]["content"], str)  # the text variant sends no image


@pytest.mark.parametrize("marker", ["unknown", "garbage"])
def test_parse_failures_are_unscored_with_the_raw_reply(server: StandIn, marker: str) -> None:
    verdict = run(server, f"[m:{marker}]")
    assert verdict.label is Label.UNSCORED and REPLIES[marker] in verdict.rationale.replace("\\n", "\n")


def test_errors_are_unscored(server: StandIn) -> None:
    assert "judge model error" in run(server, "[m:http400]").rationale
    fn = plugins.judges.build("llama-guard", {"judge_model": server.judge_model()}).obj
    assert asyncio.run(fn(PROBE, Response(error="boom"))).label is Label.UNSCORED


def test_vision_variant_sends_the_image_and_drops_s14(server: StandIn) -> None:
    assert run(server, "[m:safe]", vision=True).label is Label.SAFE
    parts = server.bodies[-1]["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["image_url", "text"]
    assert "S13: Elections." in parts[1]["text"] and "S14" not in parts[1]["text"]
    assert run(server, "[m:code]", vision=True).label is Label.UNSCORED  # S14 is not in its policy
    stored = run(server, "[m:safe]", PROBE.model_copy(update={"images": ()}), vision=True)
    assert stored.label is Label.SAFE and NO_IMAGE in stored.rationale


def test_policy_has_the_fourteen_categories() -> None:
    p = policy()
    assert list(p.categories) == [f"S{i}" for i in range(1, 15)]
    assert len(p.for_model(vision=True)) == 13
    assert parse_guard("safe\nS1", p.categories).label is Label.UNSCORED  # contradictory
    assert parse_guard("Unsafe\ns11", p.categories).rationale == "llama guard: unsafe: S11 Suicide & Self-Harm"


def test_judge_model_is_required() -> None:
    with pytest.raises(ValueError, match="llama-guard: judge_model"):
        plugins.judges.build("llama-guard")
