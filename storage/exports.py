"""Export stored attack images, e.g. one model's PGD images, as a folder the `transfer` attack replays."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from mmwatch.attacks.transfer import image_path
from mmwatch.types import Sample, SampleKind
from storage.artifacts import ArtifactStore


def export_attack_images(db_path: Path, artifacts: Path, model_id: str, attack_label: str, out_dir: Path) -> int:
    """Write `{source_id}.png` for each sample the attack sent an image for on this model.

    Reads the primary store read-only (run it while no cycle holds the file). Every defense of a
    cell sent the same image, so one per sample is written: the newest, when an attack changed
    version under the same label. Returns how many were written.
    """
    if not Path(db_path).exists():
        raise FileNotFoundError(f"no store at {db_path}")
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute(
            "SELECT s.benchmark, s.source_id, arg_max(c.probe_images[1], c.created_at) FROM cells c JOIN samples s "
            "USING (sample_id) WHERE c.model_id = ? AND c.attack_label = ? AND c.error IS NULL "
            "AND c.probe_index = 0 AND len(c.probe_images) > 0 GROUP BY ALL ORDER BY ALL",
            [model_id, attack_label],
        ).fetchall()
    if not rows:
        raise LookupError(f"no images stored for model {model_id!r} and attack {attack_label!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    store = ArtifactStore(artifacts)
    for benchmark, source_id, sha in rows:
        named = Sample(benchmark=benchmark, source_id=source_id, category="", kind=SampleKind.HARMFUL, text="")
        shutil.copyfile(store.path_for(sha), image_path(out_dir, named))
    return len(rows)
