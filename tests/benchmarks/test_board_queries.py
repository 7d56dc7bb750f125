"""benchmarks/board_queries.py at a tiny scale, so that the benchmark cannot rot: its synthetic store
publishes through the real publisher into a snapshot that says exactly what was built, and every
leaderboard/data call it times runs on that snapshot and finds rows (one build, ~5 s)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from leaderboard import data
from mmwatch.records import BoardMode

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    """The benchmark script as a module (benchmarks/ is not an installed package)."""
    path = sys.path[:]
    try:
        spec = importlib.util.spec_from_file_location("board_queries_bench", ROOT / "benchmarks" / "board_queries.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while it executes
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path[:] = path


bench = _load()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("board") / "tiny"
    return bench.build(folder, bench.Shape.for_scale(0.0005), mode=BoardMode.OPERATOR, log=lambda _: None)


def test_tiny_shape_keeps_every_kind_of_row() -> None:
    shape = bench.Shape.for_scale(0.0005)
    assert (shape.lineages, shape.revisions, shape.samples) == (1, 5, 12)
    full = bench.Shape.for_scale(1.0)
    assert (full.lineages, full.revisions) == (10, 5)
    assert 9_500_000 < 4 * full.cells < 10_500_000  # ~10 M verdicts as planned


def test_snapshot_says_what_was_built(built: Any) -> None:
    assert bench.check(built) == []
    assert built.verdicts == 4 * (built.cells - built.errors) and built.errors > 0
    assert len(data.ranking(path=built.snapshot)) == built.models == 5
    assert built.history_source == "publish"  # the publisher's own block, copied to earlier nights
    assert len(data.nights(path=built.snapshot)) == built.shape.nights
    assert data.meta(path=built.snapshot).operator


def test_every_timed_call_runs_and_finds_rows(built: Any) -> None:
    found = {name: bench.run_counted(call, built.snapshot) for name, call in bench.calls(bench.picks(built.snapshot))}
    assert [name for name, (result, _) in found.items() if bench.rows(result) == 0] == []
    assert {name: conns for name, (_, conns) in found.items() if conns != 1} == {}  # one connection per call
