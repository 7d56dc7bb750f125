"""What every run row records about the code that produced it."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

TRACKED_PACKAGES = (
    "mmwatch", "torch", "transformers", "tokenizers", "duckdb", "prefect", "pydantic", "pillow",
    "rapidocr", "streamlit", "openai",
)


def package_versions() -> dict[str, str]:
    out = {}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def code_version() -> str:
    """The git commit of the checkout when there is one (with `+dirty`), else the package version."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return f"{sha}+dirty" if dirty else sha
    except (OSError, subprocess.SubprocessError):
        try:
            return metadata.version("mmwatch")
        except metadata.PackageNotFoundError:
            return "unknown"
