"""Everything the static site shows, read once through the data module, with the site's own redaction.

The site adds its own rule on top of the data module's (belt and braces): a response, an error text,
a system prompt, a judge's rationale and an image are shown only for a benign or utility item that
the snapshot does not mark redacted. A harmful or unknown item shows its prompt, verdicts and
outcome, never what the model said, whatever the snapshot holds.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

import pandas as pd
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field

from leaderboard import data
from leaderboard.data.source import PathArg
from mmwatch.types import SampleKind

SHOWN_KINDS = frozenset({SampleKind.BENIGN, SampleKind.UTILITY})
# What a withheld row keeps: what was asked and how it was judged. Every other column (the response, the
# error text, the system prompt, the defense's steps, and any column a later schema adds) is emptied.
PUBLIC_COLUMNS = frozenset({"sample_id", "category", "kind", "attack", "defense", "prompt", "label", "outcome",
                            "judge", "redacted", "model_id", "cell_key", "image_shas", "disagree", "benchmark",
                            "probe_index", "attack_hash", "defense_hash", "shown"})
PUBLIC_VERDICT_COLUMNS = frozenset({"cell_key", "judge", "judge_version", "label", "outcome", "score"})
_SAFE_STEM = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_PNG = b"\x89PNG\r\n\x1a\n"


class SiteOptions(BaseModel):
    """How much the site shows: the sample list of a model page stops at `max_samples` items."""

    model_config = ConfigDict(frozen=True)

    max_samples: int = Field(default=500, ge=0, le=100_000)


def file_stem(value: str) -> str:
    """A file name for any string: itself if plain lowercase ASCII, else a slug and a hash of the whole
    (so "../../x" or "a/b" can never name a path, and two ids never share a file)."""
    if _SAFE_STEM.fullmatch(value):
        return value
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:48].strip("-") or "x"
    return f"{slug}-{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"


def shows_response(kind: object, redacted: object) -> bool:
    """The site's rule: only benign and utility items, and only those the snapshot does not redact."""
    try:
        shown = SampleKind(str(kind)) in SHOWN_KINDS
    except ValueError:
        return False
    return shown and redacted is not None and not pd.isna(redacted) and not bool(redacted)


def _withhold(df: pd.DataFrame, keep: pd.Series, public: frozenset[str]) -> pd.DataFrame:
    """Every column outside `public` emptied on the rows where `keep` is false."""
    out = df.copy()
    for column in out.columns:
        if column not in public:
            out[column] = out[column].astype(object).where(keep, None)
    return out


def public_samples(items: pd.DataFrame) -> pd.DataFrame:
    """Sample rows with `shown` set and everything but PUBLIC_COLUMNS emptied where the rule says no."""
    if items.empty:
        return items.assign(shown=pd.Series(dtype=bool))
    shown = [shows_response(k, r) for k, r in zip(items["kind"], items["redacted"], strict=True)]
    out = items.assign(shown=shown)
    return _withhold(out, out["shown"], PUBLIC_COLUMNS)


def public_verdicts(verdicts: pd.DataFrame, samples: pd.DataFrame) -> pd.DataFrame:
    """The verdicts on the listed samples; a rationale only where the sample's response is shown."""
    shown = set(samples.loc[samples["shown"], "cell_key"]) if not samples.empty else set()
    out = verdicts[verdicts["cell_key"].isin(set(samples["cell_key"]) if not samples.empty else set())]
    return _withhold(out, out["cell_key"].isin(shown), PUBLIC_VERDICT_COLUMNS).reset_index(drop=True)


def _valid_png(blob: bytes) -> bool:
    if not blob.startswith(_PNG):
        return False
    try:
        with Image.open(io.BytesIO(blob)) as im:
            im.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Content:
    """The snapshot as the site shows it; `pages` and `image_files` map ids to site-relative paths."""

    meta: data.Meta
    ranking: pd.DataFrame
    frontier: pd.DataFrame
    by_attack: pd.DataFrame
    deltas: pd.DataFrame
    by_category: pd.DataFrame
    refusals: pd.DataFrame
    benchmarks: pd.DataFrame  # each benchmark's numbers per model (data.benchmark_scores); index: headlines
    trend: pd.DataFrame
    trend_nights: pd.DataFrame
    night_alerts: pd.DataFrame
    alerts: pd.DataFrame
    changes: data.Changes
    samples: pd.DataFrame
    verdicts: pd.DataFrame
    truncated: frozenset[str]  # model ids whose sample list stops at the limit
    pages: dict[str, str]
    images: dict[str, bytes]
    image_files: dict[str, str]

    def page(self, model_id: object) -> str | None:
        return self.pages.get(str(model_id))


def _samples(model_ids: list[str], options: SiteOptions, path: PathArg) -> tuple[pd.DataFrame, frozenset[str]]:
    parts, cut = [], set()
    for model_id in model_ids:
        rows = data.sample_items(model_id, limit=options.max_samples + 1, path=path)
        if len(rows) > options.max_samples:
            cut.add(model_id)
        parts.append(rows.head(options.max_samples))
    frames = [p for p in parts if not p.empty]
    items = pd.concat(frames, ignore_index=True) if frames else parts[0] if parts else pd.DataFrame()
    return public_samples(items), frozenset(cut)


def _unique(names: dict[str, str], what: str) -> dict[str, str]:
    if len(set(names.values())) != len(names):
        raise ValueError(f"two {what} map to one file name: {sorted(names)}")
    return names


def load(path: PathArg, options: SiteOptions) -> Content:
    """Read the snapshot at `path` for the site (one query per table, one per model's sample list)."""
    ranking = data.ranking(path=path)
    model_ids = [str(m) for m in ranking["model_id"]]
    samples, cut = _samples(model_ids, options, path)
    shas = sorted({str(s) for row in samples[samples["shown"]].itertuples() if row.image_shas is not None
                   for s in row.image_shas}) if not samples.empty else []
    images = {sha: png for sha, png in data.published_images(shas, path=path).items() if _valid_png(png)}
    pages = _unique({m: f"models/{file_stem(m)}.html" for m in model_ids}, "model ids")
    files = _unique({sha: f"images/{file_stem(sha)}.png" for sha in images}, "image hashes")
    return Content(
        meta=data.meta(path=path), ranking=ranking, frontier=data.frontier(path=path),
        by_attack=data.asr_by_attack(path=path), deltas=data.defense_deltas(path=path),
        by_category=data.asr_by_category(path=path), refusals=data.refusal_rates(path=path),
        benchmarks=data.benchmark_scores(path=path), trend=data.trend(path=path), trend_nights=data.trend_nights(path=path),
        night_alerts=data.night_alerts(path=path), alerts=data.alerts(path=path), changes=data.changes(path=path),
        samples=samples, verdicts=public_verdicts(data.all_verdicts(path=path), samples), truncated=cut,
        pages=pages, images=images, image_files=files,
    )
