"""judge_all: which judges apply, verdict identity, failures become UNSCORED, concurrency bound."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mmwatch import plugins
from known_answers import judge_sync

from mmwatch.judges.runner import JudgePlugin, judge_all
from mmwatch.plugins import JudgeTraits
from mmwatch.registry import Plugin, PluginInfo, PluginSpec
from mmwatch.types import Judgement, Label, Probe, Response, SampleKind


def _plugin(name: str, fn: Any, traits: JudgeTraits = JudgeTraits(frozenset({SampleKind.HARMFUL})),
            version: int = 3) -> JudgePlugin:
    info = PluginInfo("judge", name, version, lambda: fn, "", traits)
    return Plugin(PluginSpec(name=name, version=version), info, fn)


def _probe(kind: SampleKind, target: str | None = None) -> Probe:
    return Probe(sample_id=f"b:{kind.value}", text="q", kind=kind, target=target, reference="3")


async def _always(probe: Probe, response: Response) -> Judgement:
    return Judgement(label=Label.SAFE, score=0.5, rationale="ok")


def test_judges_run_on_the_kinds_they_score_and_target_judges_on_targeted_probes() -> None:
    judges = [plugins.judges.build(n) for n in ("refusal-keywords", "target-string", "exact-match")]
    probes = {"harm": _probe(SampleKind.HARMFUL), "benign": _probe(SampleKind.BENIGN),
              "util": _probe(SampleKind.UTILITY), "hijack": _probe(SampleKind.HARMFUL, target="Sure"),
              "empty-target": _probe(SampleKind.HARMFUL, "")}
    out = judge_sync(judges, [(key, p, Response(text="Sure")) for key, p in probes.items()])
    assert sorted((key, v.judge) for key, v in out) == [
        ("benign", "refusal-keywords"), ("empty-target", "refusal-keywords"), ("harm", "refusal-keywords"),
        ("hijack", "refusal-keywords"), ("hijack", "target-string"), ("util", "exact-match")]
    anything = _plugin("any", _always, JudgeTraits())
    assert [v.judge for _, v in judge_sync([anything], [("u", probes["util"], Response(text="x"))])] == ["any"]


def test_real_judges_over_mixed_items() -> None:
    judges = [plugins.judges.build(n) for n in ("refusal-keywords", "target-string", "exact-match")]
    items = [
        ("c1", _probe(SampleKind.HARMFUL, target="Sure, here"), Response(text="Sure, here is how.")),
        ("c2", _probe(SampleKind.BENIGN), Response(text="I'm sorry, I cannot.")),
        ("c3", _probe(SampleKind.UTILITY), Response(text="Three")),
        ("c4", _probe(SampleKind.HARMFUL), Response(error="timeout")),
    ]
    out = judge_sync(judges, items)
    got = [(key, v.judge, v.judge_version, v.label) for key, v in out]
    assert got == [
        ("c1", "refusal-keywords", 1, Label.COMPLIED),
        ("c1", "target-string", 1, Label.TARGET_HIT),
        ("c2", "refusal-keywords", 1, Label.REFUSED),
        ("c3", "exact-match", 1, Label.CORRECT),
        ("c4", "refusal-keywords", 1, Label.UNSCORED),
    ]


def test_raising_or_misbehaving_judge_is_unscored_not_fatal() -> None:
    async def boom(probe: Probe, response: Response) -> Judgement:
        raise RuntimeError("judge model unreachable")

    async def wrong(probe: Probe, response: Response) -> Any:
        return "refused"

    judges = [_plugin("boom", boom), _plugin("wrong", wrong), _plugin("fine", _always)]
    out = judge_sync(judges, [("k", _probe(SampleKind.HARMFUL), Response(text="x"))])
    by_judge = {v.judge: v for _, v in out}
    assert by_judge["boom"].label is Label.UNSCORED
    assert "RuntimeError: judge model unreachable" in by_judge["boom"].rationale
    assert by_judge["wrong"].label is Label.UNSCORED and "not a Judgement" in by_judge["wrong"].rationale
    fine = by_judge["fine"]
    assert (fine.label, fine.score, fine.rationale, fine.judge_version) == (Label.SAFE, 0.5, "ok", 3)


def test_sync_judge_function_is_accepted() -> None:
    def plain(probe: Probe, response: Response) -> Judgement:
        return Judgement(label=Label.SAFE)

    (_, verdict), = judge_sync([_plugin("plain", plain)], [("k", _probe(SampleKind.HARMFUL), Response(text="x"))])
    assert verdict.label is Label.SAFE


def test_concurrency_is_bounded_and_order_kept() -> None:
    running = 0
    peak = 0

    async def slow(probe: Probe, response: Response) -> Judgement:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01 * (int(response.text) % 3))
        running -= 1
        return Judgement(label=Label.SAFE, rationale=response.text)

    items = [(f"k{i}", _probe(SampleKind.HARMFUL), Response(text=str(i))) for i in range(20)]
    out = asyncio.run(judge_all([_plugin("slow", slow)], items, concurrency=3))
    assert [key for key, _ in out] == [f"k{i}" for i in range(20)]
    assert [v.rationale for _, v in out] == [str(i) for i in range(20)]
    assert peak == 3


def test_bad_concurrency() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        judge_sync([], [], concurrency=0)
