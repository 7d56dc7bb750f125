"""Run judges over answers: every judge that applies, on every (cell, probe, response).

A judge declares in its traits which probes it scores (`applies_to`: sample kinds, or
`target_only` for probes whose attack wants a string). A judge that raises costs one UNSCORED
verdict with the exception as rationale, never the batch, so one odd answer cannot stop a night.
"""

from __future__ import annotations

import asyncio
import inspect
from mmwatch.plugins import JudgeFn, JudgeTraits
from mmwatch.registry import Plugin
from mmwatch.types import Judgement, Label, Probe, Response, Verdict

JudgePlugin = Plugin[JudgeFn, JudgeTraits]


async def judge_all(
    judges: list[JudgePlugin],
    items: list[tuple[str, Probe, Response]],
    concurrency: int = 8,
) -> list[tuple[str, Verdict]]:
    """(cell_key, verdict) for each applicable (item, judge), in item order then judge order."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    gate = asyncio.Semaphore(concurrency)
    jobs = [
        (key, plugin, probe, response)
        for key, probe, response in items
        for plugin in judges
        if plugin.traits.scores(probe)
    ]

    async def one(plugin: JudgePlugin, probe: Probe, response: Response) -> Verdict:
        async with gate:
            judgement = await safe_call(plugin, probe, response)
        return Verdict(
            label=judgement.label,
            score=judgement.score,
            rationale=judgement.rationale,
            judge=plugin.spec.name,
            judge_version=plugin.spec.version,
        )

    verdicts = await asyncio.gather(*(one(p, probe, resp) for _, p, probe, resp in jobs))
    return [(key, verdict) for (key, *_), verdict in zip(jobs, verdicts, strict=True)]


async def safe_call(plugin: JudgePlugin, probe: Probe, response: Response) -> Judgement:
    """The judge's Judgement, or UNSCORED naming what went wrong (exception or wrong return type)."""
    try:
        raw: object = plugin.obj(probe, response)  # a plain function is accepted too
        result = await raw if inspect.isawaitable(raw) else raw
    except Exception as exc:  # noqa: BLE001 - any judge failure is one unscored verdict
        return Judgement(
            label=Label.UNSCORED, rationale=f"judge {plugin.spec.name!r} raised {type(exc).__name__}: {exc}"
        )
    if not isinstance(result, Judgement):
        return Judgement(
            label=Label.UNSCORED,
            rationale=f"judge {plugin.spec.name!r} returned {type(result).__name__}, not a Judgement",
        )
    return result
