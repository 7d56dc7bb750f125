"""The plugin kinds of mmwatch: their call signatures, their typed traits, one registry each.

A plugin is a small factory under a decorator:

    @attack("figstep", version=1)
    def figstep(font_size: int = 80) -> AttackFn: ...

The decorator's keyword arguments are the kind's traits (a frozen dataclass below), so the engine
reads `plugin.traits.needs_gradients`, never a string key. Built-in modules are listed by name and
imported on first lookup, so importing the core never drags in torch, OCR or a web client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from mmwatch.records import Discovery
from mmwatch.registry import Registry
from mmwatch.scoring.benchmark import UtilityScore
from mmwatch.types import GenerationParams, Judgement, Probe, Response, Sample, SampleKind

ALL_KINDS: frozenset[SampleKind] = frozenset(SampleKind)
ATTACKED_KINDS: frozenset[SampleKind] = frozenset({SampleKind.HARMFUL, SampleKind.BENIGN})


@runtime_checkable
class ModelAdapter(Protocol):
    """A model backend. `generate` answers a batch of probes in order, one Response each.

    A failure on one probe is returned as a Response with `error`, never raised, so that one bad
    input costs one cell.
    """

    def generate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]: ...

    def close(self) -> None: ...


class GradientModel(Protocol):
    """What a white-box attack needs from a model: target-text loss and its pixel gradient.

    Pixels are float tensors [N, 3, H, W] in [0, 1] at the model's input resolution.
    """

    def pixels(self, images: Sequence[Any]) -> Any: ...
    def blank(self, n: int, value: float = 1.0) -> Any: ...
    def encode(self, texts: Sequence[str], targets: Sequence[str], owner: Sequence[int], stop: bool,
               like: Any) -> Any: ...
    def loss_and_grad(self, pixels: Any, batch: Any) -> tuple[Any, Any]: ...
    def evaluate(self, pixels: Any, batch: Any) -> tuple[list[float], list[bool]]: ...
    def frozen(self) -> AbstractContextManager[None]: ...


@runtime_checkable
class AsyncAnswering(Protocol):
    """Answers probes from async code (an API adapter, and the defenses wrapped around any adapter)."""

    async def agenerate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]: ...


@runtime_checkable
class AsyncModelAdapter(ModelAdapter, AsyncAnswering, Protocol):
    """An adapter that answers probes as they come (a remote API): the engine keeps `concurrency`
    requests in flight in a sliding window instead of waiting for whole batches."""

    @property
    def concurrency(self) -> int: ...


Answerer = Callable[[Sequence[Probe], GenerationParams], Awaitable[list[Response]]]


def async_answerer(adapter: ModelAdapter) -> Answerer:
    """How to answer probes from async code: natively where the adapter can, else in a worker
    thread. Resolved once per adapter (a Protocol isinstance check is slow on a hot path)."""
    if isinstance(adapter, AsyncAnswering):
        return adapter.agenerate
    import asyncio

    async def in_thread(probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        return await asyncio.to_thread(adapter.generate, probes, params)

    return in_thread


async def agenerate(adapter: ModelAdapter, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
    """Answer probes from async code: natively where the adapter can, else in a worker thread."""
    return await async_answerer(adapter)(probes, params)


class DefendedAdapter:
    """Base of a defense around an adapter: its logic is written once, as async `agenerate`
    (`ask` calls the model inside); `generate` runs it for synchronous callers."""

    def __init__(self, inner: ModelAdapter) -> None:
        self.inner = inner

    async def agenerate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        raise NotImplementedError

    async def ask(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        return await agenerate(self.inner, probes, params) if probes else []

    def generate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        from mmwatch.aio import run_sync

        return run_sync(self.agenerate(probes, params)) if probes else []

    def close(self) -> None:
        self.inner.close()


@runtime_checkable
class GradientAdapter(ModelAdapter, Protocol):
    """An adapter that hands white-box attacks its model's gradients (the `hf` adapter)."""

    def gradient_model(self) -> GradientModel: ...


@runtime_checkable
class Loadable(Protocol):
    """An adapter that loads its model lazily, and can be made to load it now."""

    def load(self) -> None: ...


@runtime_checkable
class Closeable(Protocol):
    """Judges and adapters that hold a model or a connection until they are closed."""

    def close(self) -> None: ...


def close_plugin(obj: object) -> None:
    """Close what holds resources; plain functions (most judges) hold none."""
    if isinstance(obj, Closeable):
        obj.close()


BenchmarkFn = Callable[[], Iterable[Sample]]
AttackFn = Callable[[Sample], list[Probe]]
# White-box attacks (`needs_gradients=True`) get a batch of samples and the model itself, and
# return each sample's probes in order.
GradientAttackFn = Callable[[Sequence[Sample], GradientAdapter], list[list[Probe]]]
DefenseFn = Callable[[ModelAdapter], ModelAdapter]
JudgeFn = Callable[[Probe, Response], Awaitable[Judgement]]
SourceFn = Callable[[], Discovery]


@dataclass(frozen=True)
class AttackTraits:
    """applies_to: the sample kinds it runs on (utility items are measured unattacked by default);
    needs_gradients: white-box, runs only on adapters that offer gradients; probes_per_sample: how
    many probes (cells) it makes of one sample; targeted: its probes may carry a target string,
    scored by the target judge; baseline: the request as it is, what other attacks compare with."""

    applies_to: frozenset[SampleKind] = ATTACKED_KINDS
    needs_gradients: bool = False
    probes_per_sample: int = 1
    targeted: bool = False
    baseline: bool = False


@dataclass(frozen=True)
class DefenseTraits:
    """baseline: the undefended model, the reference of every defense delta."""

    baseline: bool = False


class Measure(StrEnum):
    """What a judge's verdicts say, and so what a rate of them may be called."""

    HARM = "harm"  # safe / unsafe: did the answer carry out the harmful request (ASR, as the papers count it)
    REFUSAL = "refusal"  # refused / complied: did the model decline (its "success" is a non-refusal rate)
    UTILITY = "utility"  # correct / incorrect
    TARGET = "target"  # did the attack's exact string come out
    IMAGE_HARM = "image-harm"  # safe / unsafe about the images shown, not the answer (ShieldGemma 2):
    # it says what the model was shown, so it is no attack success and fills no headline role
    MIXED = "mixed"  # an ensemble: whatever its members measure


@dataclass(frozen=True)
class JudgeTraits:
    """applies_to: sample kinds it scores; target_only: it scores only probes with a target string;
    reads_images: it looks at the probe's images, so stored images are loaded for it; measures: what
    its verdicts say (harm or refusal: an ASR counted by a refusal judge is a non-refusal rate)."""

    applies_to: frozenset[SampleKind] = ALL_KINDS
    target_only: bool = False
    reads_images: bool = False
    uses_model: bool = False  # it calls a model (an LLM or a classifier): run by the orchestrator, not in units
    measures: Measure = Measure.MIXED

    def scores(self, probe: Probe) -> bool:
        if self.target_only:
            return bool(probe.target)
        return probe.kind in self.applies_to


def _no_revision(params: Mapping[str, Any]) -> str | None:
    return None


class Hardware(StrEnum):
    """The work pool a model's units run on."""

    GPU = "gpu"  # checkpoints loaded into memory (hf, vllm)
    CPU = "cpu"  # API models and rule-based reference models


def _no_limit(params: Mapping[str, Any]) -> tuple[str, int] | None:
    return None


GPU_LIMIT = "mmwatch-gpu"


def gpu_limit(params: Mapping[str, Any]) -> tuple[str, int] | None:
    """A unit of a loaded checkpoint holds one GPU while it runs."""
    return (GPU_LIMIT, 1)


@dataclass(frozen=True)
class AdapterTraits:
    """supports_gradients: white-box attacks can run on it; operational_params: parameters that
    do not change answers (concurrency, retries, prices...), left out of the cell key; revision:
    the revision of the weights its parameters point at, for a configured model that names none;
    hardware: the work pool its units run on; whole_shard: give it all of a unit's probes at once
    (vLLM schedules its own batches); remote: it answers over the network; limit: the Prefect
    concurrency limit a unit of it occupies,
    and how many slots (one GPU; as many calls as it keeps in flight to one API provider)."""

    supports_gradients: bool = False
    operational_params: frozenset[str] = frozenset()
    revision: Callable[[Mapping[str, Any]], str | None] = field(default=_no_revision)
    hardware: Hardware = Hardware.CPU
    whole_shard: bool = False
    limit: Callable[[Mapping[str, Any]], tuple[str, int] | None] = field(default=_no_limit)
    remote: bool = False  # answers over the network: units of different remote models run side by side


@dataclass(frozen=True)
class BenchmarkTraits:
    """utility_score: how its utility items become its published number (mmwatch.scoring.benchmark);
    published_judge: the judge its paper counts ASR with, named beside this board's (loaders report
    their bad rows through `problems` on what they return)."""

    utility_score: UtilityScore = UtilityScore.ACCURACY
    published_judge: str | None = None
    generic: bool = False  # a file format, not a benchmark: its samples are named by `name`, else their file


@dataclass(frozen=True)
class SourceTraits:
    """Nothing yet: a source turns its part of the config into model revisions."""


benchmarks: Registry[Iterable[Sample], BenchmarkTraits] = Registry(
    "benchmark", BenchmarkTraits(),
    ("mmwatch.benchmarks.mini", "mmwatch.benchmarks.files", "mmwatch.benchmarks.figstep",
     "mmwatch.benchmarks.mmsafetybench", "mmwatch.benchmarks.xstest", "mmwatch.benchmarks.harmbench",
     "mmwatch.benchmarks.mossbench", "mmwatch.benchmarks.tabular", "mmwatch.benchmarks.vlguard",
     "mmwatch.benchmarks.siuo", "mmwatch.benchmarks.mmbench", "mmwatch.benchmarks.mme", "mmwatch.benchmarks.pope",
     "mmwatch.benchmarks.textvqa", "mmwatch.benchmarks.vqav2", "mmwatch.benchmarks.scienceqa",
     "mmwatch.benchmarks.mmvet"),
)
attacks: Registry[AttackFn | GradientAttackFn, AttackTraits] = Registry(
    "attack", AttackTraits(),
    ("mmwatch.attacks.plain", "mmwatch.attacks.typography", "mmwatch.attacks.figstep",
     "mmwatch.attacks.pgd", "mmwatch.attacks.transfer",
     "mmwatch.attacks.figstep_pro", "mmwatch.attacks.sd_typo", "mmwatch.attacks.templates",
     "mmwatch.attacks.split_payload", "mmwatch.attacks.injection"),
)
defenses: Registry[DefenseFn, DefenseTraits] = Registry(
    "defense", DefenseTraits(),
    ("mmwatch.defenses.basic", "mmwatch.defenses.self_moderation", "mmwatch.defenses.ocr_filter",
     "mmwatch.defenses.output_guard"),
)
judges: Registry[JudgeFn, JudgeTraits] = Registry(
    "judge", JudgeTraits(),
    ("mmwatch.judges.refusal", "mmwatch.judges.target", "mmwatch.judges.exact", "mmwatch.judges.refusal_v2",
     "mmwatch.judges.llm", "mmwatch.judges.llamaguard", "mmwatch.judges.harmbench_cls",
     "mmwatch.judges.shieldgemma", "mmwatch.judges.ensemble",
     "mmwatch.judges.formats", "mmwatch.judges.xstest_strmatch", "mmwatch.judges.harm_rules",
     "mmwatch.judges.mmvet_grader"),
)
sources: Registry[SourceFn, SourceTraits] = Registry(
    "discovery source", SourceTraits(),
    ("adapters.sources.folder", "adapters.sources.hub", "adapters.sources.endpoint"),
)
adapters: Registry[ModelAdapter, AdapterTraits] = Registry(
    "adapter", AdapterTraits(),
    ("adapters.reference", "adapters.hf.adapter", "adapters.openai_api", "adapters.vllm_engine"),
)



@dataclass(frozen=True)
class SinkTraits:
    """Nothing yet: a sink delivers alerts (mmwatch.alerts.sinks.AlertSink)."""


sinks: Registry[Any, SinkTraits] = Registry(
    "alert sink", SinkTraits(),
    ("notifications.webhook", "notifications.slack", "notifications.email", "notifications.prefect_event"),
)

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def benchmark(name: str, version: int = 1, *, utility_score: UtilityScore = UtilityScore.ACCURACY,
              published_judge: str | None = None, generic: bool = False) -> Decorator:
    return benchmarks.register(name, version, BenchmarkTraits(utility_score, published_judge, generic))


def attack(name: str, version: int = 1, *, applies_to: Iterable[SampleKind] = ATTACKED_KINDS,
           needs_gradients: bool = False, probes_per_sample: int = 1, targeted: bool = False,
           baseline: bool = False) -> Decorator:
    if probes_per_sample < 1:
        raise ValueError(f"attack {name!r}: probes_per_sample must be >= 1")
    return attacks.register(name, version, AttackTraits(frozenset(applies_to), needs_gradients, probes_per_sample,
                                                        targeted, baseline))


def defense(name: str, version: int = 1, *, baseline: bool = False) -> Decorator:
    return defenses.register(name, version, DefenseTraits(baseline))


def judge(name: str, version: int = 1, *, measures: Measure, applies_to: Iterable[SampleKind] = ALL_KINDS,
          target_only: bool = False, reads_images: bool = False, uses_model: bool = False) -> Decorator:
    return judges.register(name, version, JudgeTraits(frozenset(applies_to), target_only, reads_images, uses_model,
                                                      measures))


def adapter(name: str, version: int = 1, *, supports_gradients: bool = False,
            operational_params: Iterable[str] = (),
            revision: Callable[[Mapping[str, Any]], str | None] = _no_revision,
            hardware: Hardware = Hardware.CPU, whole_shard: bool = False,
            limit: Callable[[Mapping[str, Any]], tuple[str, int] | None] = _no_limit,
            remote: bool = False) -> Decorator:
    return adapters.register(name, version, AdapterTraits(supports_gradients, frozenset(operational_params), revision,
                                                          hardware, whole_shard, limit, remote))


def source(name: str, version: int = 1) -> Decorator:
    return sources.register(name, version)


def sink(name: str, version: int = 1) -> Decorator:
    return sinks.register(name, version)
