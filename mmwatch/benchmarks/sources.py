"""Where a benchmark file comes from: a local path, or an http(s) URL fetched once into a cache.

Public benchmarks live on GitHub and the Hub; a nightly run should not download them every night,
and should notice when the file behind a URL changed (pin it with `sha256`). A download goes to a
temporary file in the cache and is renamed into place only when complete and verified, so an
interrupted or corrupt download never poisons later runs.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

CACHE_ENV = "MMWATCH_CACHE"
DEFAULT_CACHE = "~/.cache/mmwatch"
TIMEOUT_S = 60.0
_CHUNK = 1 << 16
_USER_AGENT = "mmwatch (benchmark loader)"


class ChecksumError(ValueError):
    """A file's sha256 is not the one the config pinned."""


def is_url(source: str | os.PathLike[str]) -> bool:
    return str(source).lower().startswith(("http://", "https://"))


def default_cache_dir() -> Path:
    """`$MMWATCH_CACHE`, else `~/.cache/mmwatch`."""
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE).expanduser()


def fetch(source: str | os.PathLike[str], sha256: str | None = None) -> Path:
    """`resolve_source` with the default cache folder: what the loaders call on their `path`."""
    return resolve_source(str(source), default_cache_dir(), sha256)


def local_folder(folder: str | os.PathLike[str], what: str) -> Path:
    """A folder argument (e.g. `images`) that must exist locally; the error names it and its role."""
    if is_url(folder):
        raise ValueError(f"{what} must be a local folder, not a URL: {folder}")
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"{what} folder not found: {path}")
    return path


def resolve_source(source: str, cache_dir: Path, sha256: str | None = None) -> Path:
    """A local path as is (it must exist), or the cached copy of a URL, downloading it if needed.

    With `sha256`, a local file is checked (never removed) and a download is checked before it is
    kept: a mismatch raises `ChecksumError` and leaves no file behind. A cached copy that no longer
    matches a changed pin is fetched again.
    """
    want = sha256.strip().lower() if sha256 else None
    if not is_url(source):
        path = Path(source).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"benchmark file not found: {path}")
        if want and path.is_file():
            got = _file_sha256(path)
            if got != want:
                raise ChecksumError(f"sha256 mismatch for {path}: expected {want}, got {got}")
        return path
    target = cache_path(source, Path(cache_dir).expanduser())
    if target.is_file() and (want is None or _file_sha256(target) == want):
        return target
    _download(source, target, want)
    return target


def cache_path(url: str, cache_dir: Path) -> Path:
    """`{cache}/downloads/{hash of the URL}/{file name}`: the original name keeps its suffix and stem."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    name = Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).name
    name = re.sub(r"[^A-Za-z0-9._()+-]", "_", name).lstrip(".") or "download"
    return cache_dir / "downloads" / digest / name


def _download(url: str, target: Path, want: str | None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        got = digest.hexdigest()
        if want and got != want:
            target.unlink(missing_ok=True)  # a stale copy for an old pin is wrong too
            raise ChecksumError(f"sha256 mismatch for {url}: expected {want}, got {got}; the download was removed")
        os.replace(tmp, target)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise FileNotFoundError(f"benchmark file not found: {url} (HTTP 404)") from None
        raise OSError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise OSError(f"cannot download {url}: {exc.reason}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
