"""Result shards: parts written by a unit, read back through fsspec, ingested once."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from plans import ADAPTER

from mmwatch.records import CellRecord
from mmwatch.types import ImageData, Label, Probe, Response, Verdict
from storage.shards import ShardWriter, list_shards
from storage.store import DuckDBStore

NONE = {"name": "none", "version": 1, "params": {}}


def cell(key: str, text: str = "ok", images: tuple[ImageData, ...] = (), error: str | None = None) -> CellRecord:
    return CellRecord(cell_key=key, run_id="run1", model_id="lin@r1", sample_id="b:1", probe_index=0, attack=NONE,
                      attack_label="none", defense=NONE, defense_label="none", adapter=ADAPTER,
                      generation={"max_new_tokens": 8}, seed=0, probe=Probe(sample_id="b:1", text="q", images=images),
                      response=Response(text=text, error=error))


def verdict(label: Label = Label.REFUSED) -> Verdict:
    return Verdict(label=label, judge="refusal-keywords", judge_version=1)


def red() -> ImageData:
    return ImageData.from_pil(Image.new("RGB", (8, 8), "red"))


def test_parts_are_ingested_once_with_their_images_and_verdicts(tmp_path: Path) -> None:
    results = str(tmp_path / "results")
    writer = ShardWriter(results, "unit-a", "run1")
    writer.write([cell("k1", images=(red(),)), cell("k2")], [("k1", verdict())])
    writer.write([cell("k3")], [])
    (tmp_path / "results" / "unit-a" / "half-written").mkdir()  # a killed write: no _SUCCESS.json
    (tmp_path / "results" / "unit-a" / "half-written" / "cells.parquet").write_bytes(b"PAR1 torn")
    assert writer.done_keys() == {"k1", "k2", "k3"}
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        assert store.ingest_shards(results) == (3, 1)
        assert store.ingest_shards(results) == (0, 0)  # idempotent: the shards are remembered
        sha = store.con.execute("SELECT probe_images[1] FROM cells WHERE cell_key = 'k1'").fetchall()[0][0]
        assert store.get_image(sha).png == red().png
        assert store.con.execute("SELECT count(*) FROM ingested_shards").fetchall()[0][0] == 2


def test_a_shard_written_again_by_a_retry_duplicates_nothing(tmp_path: Path) -> None:
    results = str(tmp_path / "results")
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        ShardWriter(results, "u", "run1").write([cell("k1")], [("k1", verdict())])
        store.ingest_shards(results)
        ShardWriter(results, "u2", "run2").write([cell("k1", text="other"), cell("k2")], [("k1", verdict())])
        assert store.ingest_shards(results) == (1, 0)
        assert store.con.execute("SELECT response_text FROM cells WHERE cell_key = 'k1'").fetchall() == [("ok",)]


def test_a_later_attempt_replaces_an_error_row_and_keeps_its_count(tmp_path: Path) -> None:
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        store.write_cells([cell("k1", error="API down")])
        assert store.existing_cell_keys(["k1"], max_attempts=2) == set()  # to be tried again
        assert store.error_attempts(["k1"]) == {"k1": 1}
        assert store.write_cells([cell("k1", error="API down").model_copy(update={"attempt": 2})]) == 1
        assert store.existing_cell_keys(["k1"], max_attempts=2) == {"k1"}  # kept as an error now
        assert store.write_cells([cell("k1", error="again").model_copy(update={"attempt": 2})]) == 0
        rows = store.con.execute("SELECT attempts, error FROM cells").fetchall()
        assert rows == [(2, "API down")]


def test_shards_go_through_any_fsspec_url(tmp_path: Path) -> None:
    url = f"memory://mmwatch-{tmp_path.name}/results"
    ShardWriter(url, "unit-a", "run1").write([cell("k1", images=(red(),))], [("k1", verdict())])
    assert [m.cells for m in list_shards(url)] == [1]
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        assert store.ingest_shards(url) == (1, 1)


def test_a_shard_whose_image_bytes_do_not_match_its_hash_is_refused(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    results = tmp_path / "results"
    ShardWriter(str(results), "u", "r").write([cell("k1", images=(red(),))], [])
    part = next(results.glob("u/*/artifacts.parquet"))
    sha = pq.read_table(part).to_pylist()[0]["sha"]
    pq.write_table(pa.Table.from_pylist([{"sha": sha, "png": b"not the image"}]), part)
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store, pytest.raises(ValueError, match=sha):
        store.ingest_shards(str(results))


def test_torn_parts_are_removed_once_no_live_worker_could_still_write_them(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    results = str(tmp_path / "results")
    ShardWriter(results, "u", "run1").write([cell("k1")], [])
    unit = tmp_path / "results" / "u"
    old = f"{datetime.now(UTC) - timedelta(hours=1):%Y%m%dT%H%M%S%f}-deadbeef"
    young = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-cafebabe"
    for name in (old, young):
        (unit / name).mkdir()
        (unit / name / "cells.parquet").write_bytes(b"PAR1 torn")
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        assert store.ingest_shards(results, torn_after_s=600) == (1, 0)
    left = sorted(p.name for p in unit.iterdir())
    assert old not in left and young in left and len(left) == 2  # the complete part and the young torn one
