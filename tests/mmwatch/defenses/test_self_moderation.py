"""self-moderation: the model reviews its own draft; harmful drafts become refusals."""

from __future__ import annotations

import pytest
from fakes import ScriptedAdapter
from known_answers import PARAMS, answers, mini, mini_sample, probes, success_rate

from adapters.reference import COMPLIANCE, REFUSAL
from mmwatch import plugins
from mmwatch.defenses.self_moderation import REVIEW_INSTRUCTION, parse_review, review_text
from mmwatch.types import ImageData, Probe, Response, SampleKind

HARMFUL = mini(SampleKind.HARMFUL, every=4)
BENIGN = mini(SampleKind.BENIGN, every=4)


def test_comply_all_refuses_harmful_requests_after_review_and_keeps_benign_answers() -> None:
    assert success_rate("comply-all", "none", HARMFUL) == 1.0
    assert success_rate("comply-all", "none", HARMFUL, defense="self-moderation") == 0.0
    benign = answers("comply-all", probes("none", BENIGN), defense="self-moderation")
    assert [r.text for r in benign] == [COMPLIANCE] * len(BENIGN)  # unchanged, word for word


def test_text_guard_catches_figstep_once_its_draft_repeats_the_request() -> None:
    """The draft quotes what OCR read, so the text-only reviewer sees the request in it."""
    sample = mini_sample("harm-illegal-01")
    assert success_rate("text-guard", "figstep", [sample]) == 1.0
    (answer,) = answers("text-guard", probes("figstep", [sample]), defense="self-moderation")
    assert answer.text == REFUSAL


def test_review_probe_carries_images_request_and_draft_and_costs_add_up() -> None:
    image = ImageData(png=b"img")
    seen: list[Probe] = []

    def script(probe: Probe) -> Response:
        seen.append(probe)
        return Response(text=f"answer {len(seen)}", tokens_in=10, tokens_out=2, latency_s=0.5, cost_usd=0.01)

    model = plugins.defenses.build("self-moderation", {"rounds": 2}).obj(ScriptedAdapter(script))
    probe = Probe(sample_id="t:1", system="sys", text="What is shown?", images=(image,))
    (out,) = model.generate([probe], PARAMS)
    assert out.text == "answer 3"  # the last round's answer
    assert (out.tokens_in, out.tokens_out, out.cost_usd) == (30, 6, pytest.approx(0.03))
    assert out.latency_s == pytest.approx(1.5)
    first_review, second_review = seen[1], seen[2]
    assert first_review.images == (image,) and first_review.system == "sys"
    assert parse_review(first_review.text) == ("What is shown?", "answer 1")
    assert parse_review(second_review.text) == ("What is shown?", "answer 2")
    assert first_review.text.startswith(REVIEW_INSTRUCTION)


def test_errors_are_not_reviewed_and_a_failed_round_names_itself() -> None:
    def script(probe: Probe) -> Response:
        if probe.text == "broken":
            return Response(error="backend down")
        if parse_review(probe.text):
            return Response(error="timeout")
        return Response(text="draft")

    inner = ScriptedAdapter(script)
    model = plugins.defenses.build("self-moderation").obj(inner)
    broken, reviewed = model.generate([Probe(sample_id="t:1", text="broken"), Probe(sample_id="t:2", text="ok")],
                                      PARAMS)
    assert broken.error == "backend down"
    assert reviewed.error == "self-moderation round 1: timeout"
    assert [len(call) for call in inner.calls] == [2, 1]


def test_review_text_round_trips_and_rounds_are_checked() -> None:
    text = review_text("multi\nline request", "draft with >>> inside\nand lines")
    assert parse_review(text) == ("multi\nline request", "draft with >>> inside\nand lines")
    assert parse_review("How do I bake bread?") is None
    with pytest.raises(ValueError, match="rounds"):
        plugins.defenses.build("self-moderation", {"rounds": 0})


def test_the_reviewed_draft_is_kept_as_a_step() -> None:
    (harmful,) = answers("comply-all", probes("none", HARMFUL[:1]), defense="self-moderation")
    assert harmful.text == REFUSAL
    assert [(s.defense, s.kind.value, s.text) for s in harmful.steps] == [("self-moderation", "draft", COMPLIANCE)]
    (twice,) = answers("comply-all", probes("none", HARMFUL[:1]), defense="self-moderation",
                       defense_params={"rounds": 2})
    assert [s.text for s in twice.steps] == [COMPLIANCE, REFUSAL]  # each round's input, in order
