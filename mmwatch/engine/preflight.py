"""Everything about a config that can be checked without evaluating, checked before any work.

A missing benchmark file, a mapped column the file lacks or an unknown template name would
otherwise surface deep in the nightly flow, after the run row was opened, and cost the valid
benchmarks their night too. Here each benchmark is loaded, each attack and defense built, and each
judge that calls no model built and closed; every problem is one line naming the config field.
Bad rows are not config problems: they stay named problems of the run, which goes on without them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmwatch import plugins
from mmwatch.config import ConfigError, PluginRef, RunConfig
from mmwatch.engine.samples import load_benchmark
from mmwatch.plugins import close_plugin


def _problem(where: str, ref: PluginRef, exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{where} ({ref.name}): {text}"


def _check_benchmarks(config: RunConfig) -> list[str]:
    problems = []
    for i, ref in enumerate(config.benchmarks):
        try:
            samples, found = load_benchmark(ref, config.inputs)
        except Exception as exc:  # noqa: BLE001 - any failure to load is the config's problem to report
            problems.append(_problem(f"benchmarks[{i}]", ref, exc))
            continue
        if not samples:  # nothing to evaluate: an empty file, or every row bad
            problems.append(f"benchmarks[{i}] ({ref.name}): {found[-1]}" + (f"; first: {found[0]}" if found[:-1]
                                                                          else ""))
    return problems


def _check_built(field: str, registry: Any, refs: tuple[PluginRef, ...], skip: Any = None) -> list[str]:
    problems = []
    for i, ref in enumerate(refs):
        if skip is not None and skip(ref):
            continue
        try:
            close_plugin(registry.build(ref.name, ref.params).obj)
        except Exception as exc:  # noqa: BLE001
            problems.append(_problem(f"{field}[{i}]", ref, exc))
    return problems


def preflight(config: RunConfig, where: Path | str = "config") -> None:
    """Raise one ConfigError listing every problem found, each naming its field; else return."""
    problems = _check_benchmarks(config)
    problems += _check_built("attacks", plugins.attacks, config.attacks)
    problems += _check_built("defenses", plugins.defenses, config.defenses)
    problems += _check_built("judges", plugins.judges, config.judges,  # a judge with a model loads it in the run
                             skip=lambda ref: plugins.judges.info(ref.name).traits.uses_model)
    if problems:
        raise ConfigError(f"invalid config {where}:\n" + "\n".join(f"  {p}" for p in problems))
