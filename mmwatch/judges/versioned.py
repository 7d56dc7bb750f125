"""A judge's versioned data: `data/{name}_v{N}.yaml`, never edited once released, so that a stored
verdict's version names the exact words and prompts that gave it (a change is a new file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).parent / "data"


@lru_cache(maxsize=32)
def load_data(name: str, version: int) -> dict[str, Any]:
    """`data/{name}_v{version}.yaml`, checked to say the version it is named for."""
    path = DATA_DIR / f"{name}_v{version}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("version") != version:
        found = data.get("version") if isinstance(data, dict) else None
        raise ValueError(f"{path}: field 'version' is {found!r}, expected {version}")
    return data
