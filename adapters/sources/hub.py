"""Hugging Face Hub source: new commits of watched repos, and new repos of watched authors.

A revision is the commit sha the branch points at when we look, never the branch name: `main`
moves, and results must stay attached to the weights they were measured on. Each repo is its own
lineage (its id) unless the config names one. Intake is cautious because these are strangers'
files: a repo that offers only pickle weights is passed over unless `allow_pickle`, and the
weights' total size travels to the `hf` adapter (`expected_bytes`) so that it can refuse a
download the disk cannot take. One repo failing (gone, private, hub hiccup) is reported in
`Discovery.skipped` and costs that repo only; it is looked at again on the next run.

The endpoint is `watch.endpoint`, else `HF_ENDPOINT`; the token is `HF_TOKEN`. The token goes to
the hub only: it is scrubbed from every reason we record or log, since error bodies may echo it.
"""

from __future__ import annotations

import fnmatch
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

from adapters.checkpoint import PICKLE_SUFFIXES  # one list for hub repos and local folders
from mmwatch.config import WatchHub
from mmwatch.plugins import source
from mmwatch.records import Discovery, ModelRecord, ModelSource

log = logging.getLogger(__name__)

SAFE_SUFFIXES = (".safetensors",)
MAX_REASON_CHARS = 300


def hub_api(watch: WatchHub) -> Any:
    from huggingface_hub import HfApi

    endpoint = watch.endpoint or os.environ.get("HF_ENDPOINT") or None
    return HfApi(endpoint=endpoint, token=os.environ.get("HF_TOKEN") or None)


def weights(siblings: Iterable[Any]) -> tuple[list[Any], list[Any]]:
    """Root-level safetensors and pickle weight files (the `hf` adapter loads from the root)."""
    root = [s for s in siblings if "/" not in s.rfilename]
    return ([s for s in root if s.rfilename.endswith(SAFE_SUFFIXES)],
            [s for s in root if s.rfilename.endswith(PICKLE_SUFFIXES)])


def intake_problem(siblings: list[Any] | None, allow_pickle: bool) -> str | None:
    """Why a repo must not be taken, or None. An unlisted file tree is left to the adapter's checks."""
    if siblings is None:
        return None
    safe, pickled = weights(siblings)
    if not safe and pickled:
        if allow_pickle:
            return None
        names = ", ".join(s.rfilename for s in pickled[:3])
        return f"only pickle weights ({names}); pickle can run code on load, set allow_pickle to accept"
    if not safe:
        return "no weight files (.safetensors) at the repo root"
    return None


def weight_bytes(siblings: list[Any] | None) -> int | None:
    """Total size of the weights the adapter will download, if the hub gave every size."""
    if siblings is None:
        return None
    safe, pickled = weights(siblings)
    sizes: list[int | None] = [s.size if s.size is not None else (s.lfs.size if s.lfs is not None else None)
                               for s in safe or pickled]
    known = [size for size in sizes if size is not None]
    return sum(known) if sizes and len(known) == len(sizes) else None


def scrub(text: str, token: str | None) -> str:
    """One short line, without the token (a hostile or chatty server may echo it back)."""
    text = " ".join(text.split())
    if token:
        text = text.replace(token, "***")
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 3] + "..."


def repo_record(api: Any, watch: WatchHub, repo: str) -> ModelRecord | str:
    """The record of `repo` at the current commit of the branch, or why it is skipped."""
    info = api.model_info(repo, revision=watch.branch, files_metadata=True)
    if not info.sha:
        return f"the hub gave no commit sha for branch {watch.branch!r}"
    problem = intake_problem(info.siblings, watch.allow_pickle)
    if problem:
        return problem
    params: dict[str, Any] = {**watch.params, "path": repo, "revision": info.sha}
    size = weight_bytes(info.siblings)
    if size is not None:
        params["expected_bytes"] = size
    if watch.allow_pickle:
        params["allow_pickle"] = True
    return ModelRecord(
        lineage=watch.lineage or repo, revision=info.sha, label=f"{repo}@{info.sha[:8]}", source=ModelSource.HUB,
        adapter=watch.adapter, adapter_params=params,
        order_key=info.last_modified.timestamp() if info.last_modified else 0.0,
    )


def scan_hub(watch: WatchHub) -> Discovery:
    """Listed repos, then authors' repos matching `watch.match`, each at its branch's commit."""
    from huggingface_hub import get_token

    found = Discovery()
    api = hub_api(watch)
    token = os.environ.get("HF_TOKEN") or get_token()  # HfApi falls back to the saved token: scrub that too
    repos = list(dict.fromkeys(watch.repos))
    for author in watch.authors:
        try:
            ids = sorted(m.id for m in api.list_models(author=author))
        except Exception as exc:  # one author failing costs that author's repos only
            found.skipped.append(scrub(f"hub author {author}: cannot list repos: {type(exc).__name__}: {exc}", token))
            log.warning("%s", found.skipped[-1])
            continue
        repos += [r for r in ids if fnmatch.fnmatchcase(r, watch.match) and r not in repos]
    for repo in repos:
        try:
            record = repo_record(api, watch, repo)
        except Exception as exc:  # a repo gone, private or failing costs itself only
            record = f"{type(exc).__name__}: {exc}"
        if isinstance(record, str):
            found.skipped.append(scrub(f"hub {repo}@{watch.branch}: {record}", token))
            log.info("skipping %s", found.skipped[-1])
        else:
            found.models.append(record)
    found.models.sort(key=lambda m: (m.order_key, m.label))
    return found


@source("hf-hub", version=1)
def hub_source(watch: WatchHub) -> Callable[[], Discovery]:
    """Commits of Hugging Face repos, and new repos of authors, at the watched branch."""
    return lambda: scan_hub(watch)
