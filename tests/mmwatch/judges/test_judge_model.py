"""A judge model behind an API answers judge calls in a sliding window of its concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from mmwatch.aio import run_sync
from mmwatch.judges.llm import JudgeModel
from mmwatch.types import GenerationParams, Probe, Response


class CountingAPI:
    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.in_flight = self.most = self.calls = 0

    async def agenerate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        self.calls += 1
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await asyncio.sleep(0.02)
        self.in_flight -= 1
        return [Response(text=f"answer {p.sample_id}") for p in probes]

    def generate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        return run_sync(self.agenerate(probes, params))

    def close(self) -> None:
        pass


def test_api_judge_calls_go_out_one_by_one_up_to_the_models_concurrency() -> None:
    api = CountingAPI(concurrency=24)
    model = JudgeModel(api, GenerationParams(max_new_tokens=4), max_batch=4)
    assert model.concurrency == 24  # not the local-model batch size

    async def judge_all() -> list[Response]:
        gate = asyncio.Semaphore(model.concurrency)

        async def one(i: int) -> Response:
            async with gate:
                return await model.ask(Probe(sample_id=f"s{i}", text="judge this"))

        return list(await asyncio.gather(*(one(i) for i in range(48))))

    answers = asyncio.run(judge_all())
    assert [a.text for a in answers] == [f"answer s{i}" for i in range(48)]
    assert api.calls == 48 and api.most == 24
