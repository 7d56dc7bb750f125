"""hf-hub source against a loopback stand-in that answers the Hub routes HfApi calls.

model_info(repo, revision=...) -> GET /api/models/{repo}/revision/{rev}?blobs=True
list_models(author=...)         -> GET /api/models?author=...
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from adapters.serve import running
from adapters.sources.hub import scan_hub
from mmwatch.config import WatchHub
from mmwatch.records import ModelSource

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
T1 = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)
SAFE = {"config.json": 600, "model.safetensors": 4000, "tokenizer.json": 900}


@dataclass
class FakeHub:
    """Repos with branches and commits; records the Authorization header of every request."""

    commits: dict[str, dict[str, Any]] = field(default_factory=dict)  # sha -> {files, when}
    branches: dict[str, dict[str, str]] = field(default_factory=dict)  # repo -> {branch: sha}
    broken: dict[str, tuple[int, str]] = field(default_factory=dict)  # repo -> (status, message)
    authorizations: list[str | None] = field(default_factory=list)

    def push(self, repo: str, files: dict[str, int], when: datetime = T0, branch: str = "main") -> str:
        sha = secrets.token_hex(20)
        self.commits[sha] = {"files": files, "when": when}
        self.branches.setdefault(repo, {})[branch] = sha
        return sha

    def info(self, repo: str, revision: str, blobs: bool) -> dict[str, Any]:
        sha = self.branches[repo].get(revision, revision)
        commit = self.commits[sha]
        siblings = [{"rfilename": name, **({"size": size} if blobs else {})} for name, size in commit["files"].items()]
        return {"_id": repo, "id": repo, "modelId": repo, "author": repo.split("/")[0], "sha": sha, "private": False,
                "lastModified": commit["when"].strftime("%Y-%m-%dT%H:%M:%S.000Z"), "siblings": siblings, "tags": []}

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def record(request: Request, call_next: Any) -> Any:
            self.authorizations.append(request.headers.get("authorization"))
            return await call_next(request)

        @app.get("/api/models")
        def list_models(author: str | None = None) -> list[dict[str, Any]]:
            return [{"_id": r, "id": r, "likes": 0, "private": False} for r in sorted(self.branches)
                    if author is None or r.split("/")[0] == author]

        @app.get("/api/models/{org}/{name}/revision/{revision}")
        def model_info(org: str, name: str, revision: str, request: Request, blobs: bool = False) -> Any:
            repo = f"{org}/{name}"
            if repo in self.broken:
                status, message = self.broken[repo]
                message = message.replace("{auth}", request.headers.get("authorization", ""))
                return JSONResponse({"error": message}, status_code=status)
            if repo not in self.branches or (revision not in self.branches[repo] and revision not in self.commits):
                return JSONResponse({"error": "Repository not found"}, status_code=404,
                                    headers={"X-Error-Code": "RepoNotFound"})
            return self.info(repo, revision, blobs)

        return app


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    import huggingface_hub.constants as hf_constants

    fake = FakeHub()
    with running(fake.app()) as url:
        base = url.removesuffix("/v1")
        monkeypatch.setenv("HF_ENDPOINT", base)
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)  # the suite is offline; this hub is local
        monkeypatch.setattr(hf_constants, "ENDPOINT", base)  # what HF_ENDPOINT at import time would set
        yield fake


def test_new_commit_on_the_branch_is_a_new_revision(hub: FakeHub) -> None:
    sha_a = hub.push("org/vlm", SAFE, T0)
    watch = WatchHub(source="hf-hub", repos=("org/vlm",), params={"dtype": "bfloat16"})
    first = scan_hub(watch)
    assert first.skipped == [] and len(first.models) == 1
    a = first.models[0]
    assert (a.lineage, a.revision, a.label, a.source) == ("org/vlm", sha_a, f"org/vlm@{sha_a[:8]}", ModelSource.HUB)
    assert a.adapter == "hf" and a.order_key == T0.timestamp()
    assert a.adapter_params == {"dtype": "bfloat16", "path": "org/vlm", "revision": sha_a, "expected_bytes": 4000}

    sha_b = hub.push("org/vlm", {**SAFE, "model.safetensors": 5000}, T1)  # main moves on
    second = scan_hub(watch)
    assert [m.revision for m in second.models] == [sha_b]
    b = second.models[0]
    assert b.lineage == a.lineage and b.model_id != a.model_id and b.order_key > a.order_key
    assert b.adapter_params["revision"] == sha_b and b.adapter_params["expected_bytes"] == 5000
    assert a.revision == sha_a and a.adapter_params["revision"] == sha_a  # the old record still names A
    assert "main" not in {a.revision, b.revision}


def test_authors_new_matching_repo_appears(hub: FakeHub) -> None:
    hub.push("lab/llava-small", SAFE)
    hub.push("other/llava-big", SAFE)  # another author
    watch = WatchHub(source="hf-hub", authors=("lab",), match="lab/llava-*", repos=("lab/llava-small",))
    assert [m.lineage for m in scan_hub(watch).models] == ["lab/llava-small"]  # listed twice, counted once

    hub.push("lab/llava-large", SAFE, T1)
    hub.push("lab/bert-tiny", SAFE, T1)  # does not match the glob
    found = scan_hub(watch)
    assert [m.lineage for m in found.models] == ["lab/llava-small", "lab/llava-large"]
    assert all(m.label.startswith(m.lineage + "@") for m in found.models)

    grouped = scan_hub(watch.model_copy(update={"lineage": "lab-llava"}))
    assert {m.lineage for m in grouped.models} == {"lab-llava"}
    assert {m.adapter_params["path"] for m in grouped.models} == {"lab/llava-small", "lab/llava-large"}


def test_pickle_only_repo_is_skipped_unless_allowed(hub: FakeHub) -> None:
    hub.push("org/old", {"config.json": 10, "pytorch_model.bin": 3000})
    hub.push("org/new", SAFE)
    hub.push("org/empty", {"README.md": 10, "vae/model.safetensors": 9})
    watch = WatchHub(source="hf-hub", repos=("org/old", "org/new", "org/empty"))
    found = scan_hub(watch)
    assert [m.lineage for m in found.models] == ["org/new"]
    old, empty = found.skipped
    assert "org/old" in old and "pickle" in old and "pytorch_model.bin" in old and "allow_pickle" in old
    assert "org/empty" in empty and "no weight files" in empty

    allowed = scan_hub(watch.model_copy(update={"allow_pickle": True}))
    params = {m.lineage: m.adapter_params for m in allowed.models}
    assert params["org/old"]["allow_pickle"] is True and params["org/old"]["expected_bytes"] == 3000
    assert "org/new" in params


def test_failing_repos_are_skipped_and_the_others_count(hub: FakeHub) -> None:
    hub.push("org/alive", SAFE)
    hub.broken["org/flaky"] = (500, "internal error")
    watch = WatchHub(source="hf-hub", repos=("org/gone", "org/alive", "org/flaky"), authors=("nobody",))
    found = scan_hub(watch)
    assert [m.lineage for m in found.models] == ["org/alive"]
    assert len(found.skipped) == 2
    assert "org/gone@main" in found.skipped[0] and "RepositoryNotFound" in found.skipped[0]
    assert "org/flaky@main" in found.skipped[1] and "500" in found.skipped[1]


def test_unknown_branch_is_skipped(hub: FakeHub) -> None:
    hub.push("org/vlm", SAFE)
    found = scan_hub(WatchHub(source="hf-hub", repos=("org/vlm",), branch="dev"))
    assert found.models == [] and "org/vlm@dev" in found.skipped[0]


def test_token_reaches_the_hub_but_never_records_or_logs(hub: FakeHub, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    token = "hf_" + secrets.token_hex(16)
    monkeypatch.setenv("HF_TOKEN", token)
    hub.push("org/private", SAFE)
    hub.broken["org/echo"] = (400, "bad credentials: {auth}")  # a server that echoes the header back
    caplog.set_level(logging.DEBUG)
    found = scan_hub(WatchHub(source="hf-hub", repos=("org/private", "org/echo"), authors=("org",)))
    assert f"Bearer {token}" in hub.authorizations
    assert [m.lineage for m in found.models] == ["org/private"]
    assert len(found.skipped) == 1 and "org/echo" in found.skipped[0] and "***" in found.skipped[0]
    assert token not in repr(found.models) and token not in repr(found.skipped)
    assert token not in caplog.text


def test_registered_as_hf_hub(hub: FakeHub) -> None:
    from adapters.hf.adapter import hf
    from mmwatch import plugins

    hub.push("org/vlm", SAFE)
    watch = WatchHub(source="hf-hub", repos=("org/vlm",))
    found = plugins.sources.info("hf-hub").factory(watch)()
    assert len(found.models) == 1
    model = hf(**found.models[0].adapter_params)  # the hf adapter takes every param the source writes
    assert model.options.revision == found.models[0].revision and model.options.expected_bytes == 4000
