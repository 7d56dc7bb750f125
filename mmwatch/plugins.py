"""The plugin kinds of mmwatch, their call signatures, and one registry for each.

A plugin is a small factory under a decorator:

    @attack("figstep", version=1)
    def figstep(font_size: int = 80) -> AttackFn: ...

Built-in modules are listed by name and imported on first lookup, so importing the core never
drags in torch, OCR or a web client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Protocol, runtime_checkable

from mmwatch.records import Discovery
from mmwatch.registry import Registry
from mmwatch.types import GenerationParams, Judgement, Probe, Response, Sample


@runtime_checkable
class ModelAdapter(Protocol):
    """A model backend. `generate` answers a batch of probes in order, one Response each.

    A failure on one probe is returned as a Response with `error`, never raised, so that one bad
    input costs one cell. `supports_gradients` lets white-box attacks find adapters they can use.
    """

    supports_gradients: bool

    def generate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]: ...

    def close(self) -> None: ...


BenchmarkFn = Callable[[], Iterable[Sample]]
AttackFn = Callable[[Sample], list[Probe]]
# White-box attacks (`@attack(..., needs_gradients=True)`) get a batch of samples and the model
# itself (an adapter with supports_gradients), and return each sample's probes in order.
GradientAttackFn = Callable[[Sequence[Sample], ModelAdapter], list[list[Probe]]]
DefenseFn = Callable[[ModelAdapter], ModelAdapter]
JudgeFn = Callable[[Probe, Response], Awaitable[Judgement]]

benchmarks: Registry[Iterable[Sample]] = Registry(
    "benchmark",
    (
        "mmwatch.benchmarks.mini",
        "mmwatch.benchmarks.files",
        "mmwatch.benchmarks.figstep",
        "mmwatch.benchmarks.mmsafetybench",
        "mmwatch.benchmarks.xstest",
        "mmwatch.benchmarks.harmbench",
        "mmwatch.benchmarks.mossbench",
        "mmwatch.benchmarks.tabular",
        "mmwatch.benchmarks.vlguard",
        "mmwatch.benchmarks.siuo",
    ),
)
attacks: Registry[AttackFn] = Registry(
    "attack",
    ("mmwatch.attacks.plain", "mmwatch.attacks.typography", "mmwatch.attacks.figstep",
     "mmwatch.attacks.pgd", "mmwatch.attacks.transfer",
     "mmwatch.attacks.figstep_pro", "mmwatch.attacks.sd_typo", "mmwatch.attacks.templates",
     "mmwatch.attacks.split_payload", "mmwatch.attacks.injection"),
)
defenses: Registry[DefenseFn] = Registry(
    "defense",
    ("mmwatch.defenses.basic", "mmwatch.defenses.self_moderation", "mmwatch.defenses.ocr_filter",
     "mmwatch.defenses.output_guard"),
)
judges: Registry[JudgeFn] = Registry(
    "judge",
    (
        "mmwatch.judges.refusal",
        "mmwatch.judges.target",
        "mmwatch.judges.exact",
        "mmwatch.judges.refusal_v2",
        "mmwatch.judges.llm",
        "mmwatch.judges.llamaguard",
        "mmwatch.judges.ensemble",
    ),
)
sources: Registry[Callable[[], Discovery]] = Registry(
    "discovery source", ("adapters.sources.folder", "adapters.sources.hub", "adapters.sources.endpoint")
)
adapters: Registry[ModelAdapter] = Registry("adapter", ("adapters.reference", "adapters.hf.adapter", "adapters.openai_api", "adapters.vllm_engine"))

benchmark = benchmarks.register
attack = attacks.register
defense = defenses.register
judge = judges.register
adapter = adapters.register
source = sources.register
