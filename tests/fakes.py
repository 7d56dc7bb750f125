"""Scripted fake models for engine tests (Inspect's mock model idea): edge cases on demand."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mmwatch.types import GenerationParams, Probe, Response


class ScriptedAdapter:
    """Answers each probe with `script(probe)`; a script may raise to simulate a dead backend."""

    def __init__(self, script: Callable[[Probe], Response | str]) -> None:
        self.script = script
        self.calls: list[list[Probe]] = []
        self.closed = False

    def generate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        self.calls.append(list(probes))
        out = []
        for probe in probes:
            answer = self.script(probe)
            out.append(answer if isinstance(answer, Response) else Response(text=answer))
        return out

    def close(self) -> None:
        self.closed = True
