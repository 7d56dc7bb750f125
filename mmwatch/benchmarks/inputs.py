"""Benchmark inputs are confined and bounded: the images a run reads because a benchmark row says so.

Benchmark files are often downloaded from strangers, and a row names an image by path: left alone,
`../outside/private.png` or `/home/me/.ssh/id_rsa` would be read, sent to an API model and stored.
So every image path resolves (symlinks and `..` followed) inside the benchmark's own folder or one
of the operator's `inputs.allowed_roots`, and every image is within `inputs.max_image_bytes` and
`inputs.max_image_pixels`, read from the file's length and header so a huge image is never
decoded. A refused image costs its row only: it is a problem naming the file, the row, the path
and the sample, and the run goes on with the other rows.

Loaders say which folder is theirs (`image_root`) and where each sample came from (`origin`);
a benchmark that says nothing (a third-party plugin's plain list) has no folder of its own, so
its image paths must lie under an allowed root.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from mmwatch.types import InputLimits, InputRefusal, InputRefusedError, Sample


@runtime_checkable
class Rooted(Protocol):
    """A loaded benchmark that knows its image folder and the row of each sample."""

    image_root: Path | None

    def origin(self, source_id: str) -> str | None: ...


def confine(path: Path, roots: Sequence[Path], name: str) -> Path:
    """The real path of `path` if it lies inside one of `roots` (already resolved), else a refusal."""
    try:
        real = Path(path).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise InputRefusedError(f"{name} cannot be resolved: {exc}", InputRefusal.OUTSIDE) from None
    if any(real.is_relative_to(root) for root in roots):
        return real
    where = " or ".join(str(r) for r in roots) if roots else "any folder: the benchmark names none"
    raise InputRefusedError(f"{name} resolves to {real}, outside {where} (allow more with inputs.allowed_roots)",
                            InputRefusal.OUTSIDE)


class ImageScreen:
    """The samples of one loaded benchmark whose images pass, lazily (a `limit` stops early);
    `problems` lists the refused ones as `file:row: image: why`."""

    def __init__(self, samples: Iterable[Sample], limits: InputLimits, label: str) -> None:
        self._samples = samples
        self._rooted = samples if isinstance(samples, Rooted) else None
        own = self._rooted.image_root if self._rooted is not None else None
        self.roots = tuple(r.expanduser().resolve() for r in ((own,) if own is not None else ()) + limits.allowed_roots)
        self.limits = limits
        self.label = label  # how a problem names a row whose origin is unknown
        self.problems: list[str] = []

    def __iter__(self) -> Iterator[Sample]:
        for sample in self._samples:
            try:
                self.check(sample)
            except InputRefusedError as exc:
                origin = self._rooted.origin(sample.source_id) if self._rooted is not None else None
                self.problems.append(f"{origin or self.label}: image: {exc}")
                continue
            yield sample

    def check(self, sample: Sample) -> None:
        """Raise InputRefusedError if the sample's image is outside the roots or too large."""
        if sample.image_path is not None:
            name = f"{sample.image_path} (sample {sample.id})"
            self.limits.check_image(confine(sample.image_path, self.roots, name), name)
        if sample.image is not None:
            self.limits.check_image(sample.image.png, f"the image held in memory (sample {sample.id})")
