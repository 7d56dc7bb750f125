"""Run judges over stored answers: every judge that applies, on every (cell, probe, response).

A judge declares in its registry entry which probes it scores (`applies_to`: sample kinds, or
"target" for probes whose attack wants a string). A judge that raises costs one UNSCORED verdict
with the exception as rationale, never the batch, so one odd answer cannot stop a night's run.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Sequence

from mmwatch.plugins import JudgeFn
from mmwatch.registry import Plugin, PluginInfo
from mmwatch.types import Judgement, Label, Probe, Response, SampleKind, Verdict

TARGET = "target"
APPLIES_TO_VALUES = (*(k.value for k in SampleKind), TARGET)


def applies_to(info: PluginInfo) -> tuple[str, ...] | None:
    """The judge's declared scope; None (no `applies_to`) means every probe. Typos raise early."""
    scope = info.meta.get("applies_to")
    if scope is None:
        return None
    values = (scope,) if isinstance(scope, str) else tuple(scope)
    unknown = [v for v in values if v not in APPLIES_TO_VALUES]
    if unknown:
        raise ValueError(
            f"judge {info.name!r}: applies_to has unknown value(s) {', '.join(map(repr, unknown))} "
            f"(allowed: {', '.join(APPLIES_TO_VALUES)})"
        )
    return values


def applies(info: PluginInfo, probe: Probe) -> bool:
    """Whether this judge scores this probe: its kind is listed, or "target" and it has a target."""
    scope = applies_to(info)
    if scope is None:
        return True
    return probe.kind.value in scope or (TARGET in scope and bool(probe.target))


async def judge_all(
    judges: list[Plugin[JudgeFn]],
    items: list[tuple[str, Probe, Response]],
    concurrency: int = 8,
) -> list[tuple[str, Verdict]]:
    """(cell_key, verdict) for each applicable (item, judge), in item order then judge order."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    for plugin in judges:
        applies_to(plugin.info)  # a bad declaration fails before any work
    gate = asyncio.Semaphore(concurrency)
    jobs = [
        (key, plugin, probe, response)
        for key, probe, response in items
        for plugin in judges
        if applies(plugin.info, probe)
    ]

    async def one(plugin: Plugin[JudgeFn], probe: Probe, response: Response) -> Verdict:
        async with gate:
            judgement = await _safe_call(plugin, probe, response)
        return Verdict(
            label=judgement.label,
            score=judgement.score,
            rationale=judgement.rationale,
            judge=plugin.spec.name,
            judge_version=plugin.spec.version,
        )

    verdicts = await asyncio.gather(*(one(p, probe, resp) for _, p, probe, resp in jobs))
    return [(key, verdict) for (key, *_), verdict in zip(jobs, verdicts, strict=True)]


async def _safe_call(plugin: Plugin[JudgeFn], probe: Probe, response: Response) -> Judgement:
    """The judge's Judgement, or UNSCORED naming what went wrong (exception or wrong return type)."""
    try:
        result = plugin.obj(probe, response)
        if inspect.isawaitable(result):
            result = await result
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


def judge_sync(
    judges: Sequence[Plugin[JudgeFn]], items: Sequence[tuple[str, Probe, Response]], concurrency: int = 8
) -> list[tuple[str, Verdict]]:
    """`judge_all` for callers without an event loop (CLI, Prefect tasks, tests)."""
    return asyncio.run(judge_all(list(judges), list(items), concurrency))
