"""Where finished cells go: a sink (a unit's result shards, or the store) fed by one background
writer per evaluation, which also scores the cells with the local judges.

The writer keeps generation and writing apart: the event loop (or the GPU batch loop) hands rows
over and goes on; rows that arrive while a write runs go into the next one together, so writes
grow under load instead of queueing, and a crash loses at most the rows not yet written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from mmwatch.aio import run_sync
from mmwatch.judges.runner import JudgePlugin, judge_all
from mmwatch.records import CellRecord
from mmwatch.secrets import Secrets, scrub_cell, scrub_verdict
from mmwatch.store import Store
from mmwatch.types import Verdict

OnProgress = Callable[[int], None]  # called with the number of cells just finished


class ResultSink(Protocol):
    """Where finished cells go: a unit's result shards, or straight into a store."""

    def write(self, cells: Sequence[CellRecord], verdicts: Sequence[tuple[str, Verdict]]) -> object: ...


class StoreSink:
    """Writes into the primary store directly (library use and tests; the cycle writes shards)."""

    def __init__(self, store: Store, run_id: str) -> None:
        self.store, self.run_id = store, run_id

    def write(self, cells: Sequence[CellRecord], verdicts: Sequence[tuple[str, Verdict]]) -> int:
        written = self.store.write_cells(cells)
        self.store.write_verdicts(self.run_id, verdicts)
        return written


@dataclass
class EvalStats:
    written: int = 0  # cells handed to the sink
    failed: int = 0  # error rows among them


class Writer:
    """A background thread that scores finished cells with the local judges and writes them to the
    sink. `add` never waits for a write. A write holds at least `batch_size` rows (the last may hold
    fewer), and at most one write starts per `interval_s`: rows that arrive meanwhile go into it
    together, so a fast model makes few large parts instead of many small ones, and a crash loses
    at most about `interval_s` of work. Use as a context manager: leaving it writes what is left,
    and raises if a write failed."""

    def __init__(self, sink: ResultSink, judges: Sequence[JudgePlugin], progress: OnProgress | None,
                 batch_size: int, interval_s: float = 0.0, secrets: Secrets | None = None) -> None:
        self.sink, self.judges, self.progress, self.batch_size = sink, list(judges), progress, max(1, batch_size)
        self.interval_s = interval_s
        self.secrets = secrets or Secrets.none()
        self._last_write = 0.0
        self.stats = EvalStats()
        self._pending: list[CellRecord] = []
        self._wake = threading.Condition()
        self._closing = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="mmwatch-writer", daemon=True)

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._wake:
            self._closing = True
            self._wake.notify()
        self._thread.join()
        if self._error is not None and exc[0] is None:
            raise RuntimeError(f"writing results failed: {self._error}") from self._error

    def add(self, records: Sequence[CellRecord]) -> None:
        with self._wake:
            if self._error is not None:
                raise RuntimeError(f"writing results failed: {self._error}") from self._error
            self._pending.extend(records)
            if len(self._pending) >= self.batch_size:
                self._wake.notify()

    def _loop(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._closing or len(self._pending) >= self.batch_size)
                wait = self._last_write + self.interval_s - time.monotonic()
                if wait > 0 and not self._closing:
                    self._wake.wait_for(lambda: self._closing, timeout=wait)
                batch, self._pending = self._pending, []
                last = self._closing
            self._last_write = time.monotonic()
            if batch and self._error is None:
                try:
                    self._write(batch)
                except BaseException as exc:  # noqa: BLE001 - reported by add() and on exit
                    self._error = exc
            if last:
                with self._wake:
                    if not self._pending:
                        return

    def _write(self, records: list[CellRecord]) -> None:
        if self.secrets:  # the last net before the shards: nothing secret is judged or written
            records = [scrub_cell(r, self.secrets) for r in records]
        items = [(r.cell_key, r.probe, r.response) for r in records if r.probe is not None and not r.response.error]
        verdicts = run_sync(judge_all(self.judges, items)) if self.judges and items else []
        if self.secrets:
            verdicts = [(key, scrub_verdict(v, self.secrets)) for key, v in verdicts]
        self.sink.write(records, verdicts)
        self.stats.written += len(records)
        self.stats.failed += sum(1 for r in records if r.response.error)
        if self.progress:
            self.progress(len(records))
