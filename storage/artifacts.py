"""Content-addressed artifact folder: each image stored once, named by the sha256 of its bytes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from mmwatch.types import ImageData


class ArtifactStore:
    """`root/ab/abcdef....png`; writes are atomic so a crash never leaves half a file."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha: str) -> Path:
        return self.root / sha[:2] / f"{sha}.png"

    def put(self, image: ImageData) -> str:
        sha = image.sha256
        target = self.path_for(sha)
        if target.exists():
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(image.png)
        os.replace(tmp, target)
        return sha

    def get(self, sha: str) -> ImageData:
        path = self.path_for(sha)
        try:
            return ImageData(png=path.read_bytes())
        except FileNotFoundError:
            raise FileNotFoundError(f"artifact {sha} missing from {self.root} (expected {path})") from None
