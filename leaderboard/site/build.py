"""`mmwatch export-site DIR`: the public snapshot as a self-contained static site, like HELM's.

index.html, alerts.html, models/<slug>.html, images/<sha>.png, data/<table>.json|parquet, style.css
and manifest.json. No script, no URL outside the folder: any web server, or file://, can host it.
The snapshot is copied first and read from the copy, so the site shows one snapshot even if the
publisher swaps in the next one meanwhile; every file is rendered before the folder is touched.
"""

from __future__ import annotations

import dataclasses
import io
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from leaderboard import data
from leaderboard.data.source import PathArg
from leaderboard.site.content import Content, SiteOptions, load
from leaderboard.site.folder import FolderKind, Manifest, check, claim, inside, write_manifest
from leaderboard.site.model_page import model_page
from leaderboard.site.pages import alerts_page, index
from leaderboard.site.style import STYLE_CSS


class SiteError(RuntimeError):
    """The site cannot be built from this snapshot; the message names the file."""


@dataclass(frozen=True)
class SiteReport:
    """What build_site wrote."""

    out: Path
    models: int
    images: int
    files: tuple[str, ...]


def tables(content: Content) -> dict[str, pd.DataFrame]:
    """Every table behind the pages, as the pages show it (samples and verdicts already redacted)."""
    meta = {k: (v.value if hasattr(v, "value") else v) for k, v in dataclasses.asdict(content.meta).items()
            if k != "extra"}
    ch = content.changes
    return {
        "meta": pd.DataFrame({"key": list(meta), "value": [None if v is None else str(v) for v in meta.values()]}),
        "ranking": content.ranking, "frontier": content.frontier, "asr_by_attack": content.by_attack,
        "defense_deltas": content.deltas, "asr_by_category": content.by_category, "refusal_rates": content.refusals,
        "benchmark_scores": content.benchmarks,
        "trend_revisions": content.trend, "trend_nights": content.trend_nights, "night_alerts": content.night_alerts,
        "alerts": content.alerts, "changes_new_revisions": ch.new_revisions, "changes_alerts": ch.alerts,
        "changes_moves": ch.moves, "changes_revision_moves": ch.revision_moves,
        "samples": content.samples.drop(columns=["redacted"], errors="ignore"), "verdicts": content.verdicts,
    }


def _table_files(frames: dict[str, pd.DataFrame]) -> dict[str, bytes]:
    files = {}
    for name, df in frames.items():
        files[f"data/{name}.json"] = (df.to_json(orient="records", date_format="iso", indent=1) or "[]").encode()
        buf = io.BytesIO()
        df.reset_index(drop=True).to_parquet(buf, index=False)
        files[f"data/{name}.parquet"] = buf.getvalue()
    return files


def render(content: Content) -> dict[str, bytes]:
    """Every file of the site, by its path inside the site folder."""
    frames = tables(content)
    files = {"index.html": index(content, list(frames)).encode(), "alerts.html": alerts_page(content).encode(),
             "style.css": STYLE_CSS.encode()}
    files |= {page: model_page(model_id, content).encode() for model_id, page in content.pages.items()}
    files |= {content.image_files[sha]: png for sha, png in content.images.items()}
    return files | _table_files(frames)


def _copy(path: PathArg, into: Path) -> Path:
    source = data.snapshot_path(path)
    if not source.is_file():
        raise data.SnapshotMissing(f"No leaderboard snapshot at {source.resolve()}.")
    target = into / "snapshot.duckdb"
    shutil.copyfile(source, target)  # one open file: a rename by the publisher cannot mix two snapshots
    return target


def build_site(out: Path, *, path: PathArg = None, options: SiteOptions | None = None,
               force: bool = False) -> SiteReport:
    """Write the static site of the public snapshot at `path` into `out` (see folder.claim for `force`)."""
    source = data.snapshot_path(path)
    check(out, FolderKind.SITE, force=force)  # refuse early; the folder is only changed once all is rendered
    with tempfile.TemporaryDirectory(prefix="mmwatch-site-") as tmp:
        local = _copy(source, Path(tmp))
        meta = data.meta(path=local)
        if meta.operator:
            raise SiteError(f"{source} is an operator snapshot (meta mode = operator): a public site is built "
                            "from a public snapshot only; publish one with mode public and build from that")
        content = load(local, options or SiteOptions())
    files = render(content)
    claim(out, FolderKind.SITE, force=force)
    for name, blob in files.items():
        target = inside(out, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob)
    write_manifest(out, Manifest(kind=FolderKind.SITE, snapshot=str(source.resolve()), published_at=meta.published_at,
                                 run_id=meta.run_id, files=sorted(files)))
    return SiteReport(out=out, models=len(content.pages), images=len(content.images), files=tuple(sorted(files)))
