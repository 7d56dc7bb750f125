"""Known-answer runs for attack and defense tests: real reference models, real OCR, real judge.

A cell here is (reference behaviour, attack, defense) over a few mmwatch-mini samples, judged by
the registered `refusal-keywords` (or `target-string`) judge, exactly as a nightly run would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from mmwatch import plugins
from mmwatch.benchmarks.mini import load_all
from mmwatch.judges.runner import JudgePlugin, judge_all
from mmwatch.analysis.outcomes import attack_succeeded
from mmwatch.types import GenerationParams, Probe, Response, Sample, SampleKind, Verdict

PARAMS = GenerationParams()


def judge_sync(judges: Sequence[JudgePlugin], items: Sequence[tuple[str, Probe, Response]],
               concurrency: int = 8) -> list[tuple[str, Verdict]]:
    """`judge_all` from a test without an event loop."""
    return asyncio.run(judge_all(list(judges), list(items), concurrency))


def mini(kind: SampleKind, every: int = 1) -> list[Sample]:
    """mmwatch-mini samples of one kind, every `every`-th one (every=4 gives 10 harmful, one per category)."""
    return [s for s in load_all() if s.kind is kind][::every]


def mini_sample(source_id: str) -> Sample:
    return next(s for s in load_all() if s.source_id == source_id)


def probes(attack: str, samples: Sequence[Sample], params: dict[str, Any] | None = None) -> list[Probe]:
    run = plugins.attacks.build(attack, params).obj
    return [run(sample)[0] for sample in samples]


def answers(behaviour: str, probe_list: Sequence[Probe], defense: str = "none",
            defense_params: dict[str, Any] | None = None) -> list[Response]:
    model = plugins.adapters.build("reference", {"behaviour": behaviour}).obj
    defended = plugins.defenses.build(defense, defense_params).obj(model)
    responses = defended.generate(list(probe_list), PARAMS)
    assert all(r.error is None for r in responses), [r.error for r in responses if r.error]
    return responses


def verdicts(judge: str, probe_list: Sequence[Probe], responses: Sequence[Response]) -> list[Verdict]:
    built = plugins.judges.build(judge)
    items = [(str(i), p, r) for i, (p, r) in enumerate(zip(probe_list, responses, strict=True))]
    return [v for _, v in judge_sync([built], items)]


def success_rate(behaviour: str, attack: str, samples: Sequence[Sample], defense: str = "none",
                 judge: str = "refusal-keywords", attack_params: dict[str, Any] | None = None) -> float:
    """Attack success rate of one cell of the matrix, as the nightly metrics count it."""
    probe_list = probes(attack, samples, attack_params)
    found = verdicts(judge, probe_list, answers(behaviour, probe_list, defense))
    assert len(found) == len(probe_list) and all(v.scored for v in found)
    return sum(bool(attack_succeeded(v.label)) for v in found) / len(found)
