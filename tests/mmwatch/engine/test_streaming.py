"""The streaming engine: a sliding window of `concurrency` calls, writes of at least `batch_size`,
and a failed write that stops the evaluation rather than losing rows quietly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from mmwatch import plugins
from mmwatch.aio import run_sync
from mmwatch.engine.evaluate import Context, Writer, evaluate_streaming
from mmwatch.engine.plan import Matrix, PlannedCell, plan
from mmwatch.records import CellRecord, ModelRecord, ModelSource
from mmwatch.types import GenerationParams, Probe, Response, Sample, SampleKind, Verdict


class SlowAPI:
    """Answers after a delay; probe 0 is ten times slower. Counts calls in flight."""

    def __init__(self, concurrency: int, delay: float) -> None:
        self.concurrency, self.delay = concurrency, delay
        self.in_flight = self.most = 0

    async def agenerate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await asyncio.sleep(self.delay * (10 if probes[0].sample_id.endswith(":s0") else 1))
        self.in_flight -= 1
        return [Response(text="I cannot help.") for _ in probes]

    def generate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        return run_sync(self.agenerate(probes, params))

    def close(self) -> None:
        pass


class Recorder:
    def __init__(self) -> None:
        self.writes: list[int] = []

    def write(self, cells: Sequence[CellRecord], verdicts: Sequence[tuple[str, Verdict]]) -> None:
        self.writes.append(len(cells))


def cells(n: int, batch_size: int) -> tuple[list[PlannedCell], GenerationParams]:
    generation = GenerationParams(max_new_tokens=4, batch_size=batch_size)
    model = ModelRecord(lineage="api", revision="v1", label="v1", source=ModelSource.CONFIG, adapter="openai",
                        adapter_params={"model": "m", "base_url": "http://127.0.0.1:1/v1"})
    samples = [Sample(benchmark="t", source_id=f"s{i}", text=f"q{i}", category="c", kind=SampleKind.HARMFUL) for i in range(n)]
    matrix = Matrix(models=[model], samples=samples, attacks=[plugins.attacks.build("none")],
                    defenses=[plugins.defenses.build("none")], generation=generation, seed=0)
    return plan(matrix, lambda keys: set()).new, generation


def test_concurrency_not_batch_size_bounds_the_calls_in_flight_and_a_slow_answer_holds_up_nothing() -> None:
    todo, generation = cells(64, batch_size=4)
    api, sink = SlowAPI(concurrency=16, delay=0.05), Recorder()
    start = time.perf_counter()
    with Writer(sink, [], None, generation.batch_size) as writer:
        asyncio.run(evaluate_streaming(todo, api, writer, Context("r", generation, 0, {}, lambda *a: None)))
    elapsed = time.perf_counter() - start
    assert api.most == 16  # the window, not the batch (4)
    # 64 calls of 50 ms through 16 slots is 0.2 s; one 0.5 s call stalls only its own slot, so the
    # run takes about 0.5 s. Batches that wait for their slowest answer would take >= 0.65 s.
    assert elapsed < 0.62
    assert sum(sink.writes) == 64 == writer.stats.written and min(sink.writes[:-1]) >= 4


class Broken:
    def write(self, cells: Sequence[CellRecord], verdicts: Sequence[tuple[str, Verdict]]) -> None:
        raise OSError("results location is read-only")


def test_a_failed_write_fails_the_evaluation_instead_of_losing_rows_quietly() -> None:
    import pytest

    todo, generation = cells(8, batch_size=2)
    with pytest.raises(RuntimeError, match="read-only"):
        with Writer(Broken(), [], None, generation.batch_size) as writer:
            asyncio.run(evaluate_streaming(todo, SlowAPI(4, 0.001), writer,
                                           Context("r", generation, 0, {}, lambda *a: None)))


class Recording:
    """A loaded model that records the size of every generate call."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def generate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        self.calls.append(len(probes))
        return [Response(text="I cannot help.") for _ in probes]

    def close(self) -> None:
        pass


def test_a_loaded_model_gets_gpu_batches_and_a_whole_shard_adapter_everything_at_once() -> None:
    from mmwatch.engine.evaluate import evaluate_batched

    todo, generation = cells(10, batch_size=4)
    for whole, expected in ((False, [4, 4, 2]), (True, [10])):
        model, sink = Recording(), Recorder()
        with Writer(sink, [], None, generation.batch_size) as writer:
            evaluate_batched(todo, model, writer, Context("r", generation, 0, {}, lambda *a: None), whole_shard=whole)
        assert model.calls == expected and sum(sink.writes) == 10
