"""`mmwatch export` as a library (leaderboard.data.export_tables): one file per snapshot table, the
right row counts, readable by pandas, and no more public than the board."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from leaderboard import data

TABLES = ("alerts", "asr_by_attack", "asr_by_category", "asr_slices", "benchmark_scores", "examples", "history", "history_alerts", "images",
          "leaderboard", "meta", "refusal_rates", "runs", "verdicts")


def _counts(snapshot: Path) -> dict[str, int]:
    with duckdb.connect(str(snapshot), read_only=True) as con:
        return {t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in TABLES}  # type: ignore[index]


@pytest.mark.parametrize("fmt", list(data.ExportFormat))
def test_one_file_per_table_with_its_rows(snapshot: Path, tmp_path: Path, fmt: data.ExportFormat) -> None:
    written = data.export_tables(tmp_path / "out", fmt, path=snapshot)
    assert [w.table for w in written] == list(TABLES)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{t}.{fmt.value}" for t in TABLES]
    counts = _counts(snapshot)
    for w in written:
        df = pd.read_parquet(w.file) if fmt is data.ExportFormat.PARQUET else pd.read_csv(w.file)
        assert len(df) == w.rows == counts[w.table], w.table


def test_csv_drops_blobs_and_writes_lists_as_json(snapshot: Path, tmp_path: Path) -> None:
    data.export_tables(tmp_path, data.ExportFormat.CSV, path=snapshot)
    images = pd.read_csv(tmp_path / "images.csv")
    assert list(images.columns) == ["sha", "width", "height"]
    examples = pd.read_csv(tmp_path / "examples.csv")
    shas = [json.loads(v) for v in examples["image_shas"]]
    assert ["sha-red-square"] in shas and [] in shas
    assert len(pd.read_csv(tmp_path / "history.csv")["night"].unique()) == 2


def test_parquet_keeps_types(snapshot: Path, tmp_path: Path) -> None:
    data.export_tables(tmp_path, path=snapshot)
    images = pd.read_parquet(tmp_path / "images.parquet")
    assert bytes(images["png"].iloc[0]).startswith(b"\x89PNG")
    examples = pd.read_parquet(tmp_path / "examples.parquet")
    assert list(examples[examples["sample_id"] == "vqa:7"]["image_shas"].iloc[0]) == ["sha-red-square"]
    assert examples["attacked"].dtype == bool


@pytest.mark.parametrize("fmt", list(data.ExportFormat))
def test_hidden_answers_stay_hidden(snapshot: Path, tmp_path: Path, texts, fmt: data.ExportFormat) -> None:
    """The fixture's snapshot (wrongly) holds a harmful answer: the export, like the board, does not."""
    with duckdb.connect(str(snapshot)) as con:  # and a harmful item's image the publisher left in
        con.execute("INSERT INTO images VALUES ('sha-figstep-1', (SELECT png FROM images LIMIT 1), 64, 48)")
    written = data.export_tables(tmp_path, fmt, path=snapshot)
    for w in written:
        df = pd.read_parquet(w.file) if fmt is data.ExportFormat.PARQUET else pd.read_csv(w.file)
        text = df.to_csv()
        for secret in (texts.harmful, "rationale for cell-0", "SENTINEL-DRAFT"):
            assert secret not in text, (secret, w.table)
    examples = pd.read_parquet(tmp_path / "examples.parquet") if fmt is data.ExportFormat.PARQUET \
        else pd.read_csv(tmp_path / "examples.csv")
    assert texts.benign in set(examples["response_text"].dropna())
    images = pd.read_parquet(tmp_path / "images.parquet") if fmt is data.ExportFormat.PARQUET \
        else pd.read_csv(tmp_path / "images.csv")
    assert list(images["sha"]) == ["sha-red-square"]


def test_operator_snapshot_exports_everything(tmp_path: Path, make_snapshot, texts) -> None:
    snap = make_snapshot(tmp_path / "operator.duckdb", show_responses=True)
    data.export_tables(tmp_path / "out", path=snap)
    assert texts.harmful in set(pd.read_parquet(tmp_path / "out" / "examples.parquet")["response_text"].dropna())


def test_missing_snapshot(tmp_path: Path) -> None:
    with pytest.raises(data.SnapshotMissing, match="absent.duckdb"):
        data.export_tables(tmp_path / "out", path=tmp_path / "absent.duckdb")
    assert not (tmp_path / "out").exists()


def test_quotes_in_the_output_path(snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "it's here"
    assert len(data.export_tables(out, data.ExportFormat.CSV, path=snapshot)) == len(TABLES)
