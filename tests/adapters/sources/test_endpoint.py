"""openai-endpoint source against a loopback `/v1/models` whose listing the test changes."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from adapters.serve import running
from adapters.sources.endpoint import scan_endpoint
from mmwatch.config import WatchEndpoint
from mmwatch.records import ModelSource


@dataclass
class FakeEndpoint:
    """An OpenAI-style model listing; `refuse` answers 401 with the caller's header echoed back."""

    models: dict[str, int | None] = field(default_factory=dict)  # id -> created
    refuse: bool = False
    authorizations: list[str | None] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/v1/models")
        def list_models(request: Request) -> Any:
            auth = request.headers.get("authorization")
            self.authorizations.append(auth)
            if self.refuse:
                return JSONResponse({"error": {"message": f"invalid key in {auth}", "type": "auth"}}, status_code=401)
            data = [{"id": i, "object": "model", "owned_by": "lab", **({"created": c} if c is not None else {})}
                    for i, c in self.models.items()]
            return {"object": "list", "data": data}

        return app


@pytest.fixture
def endpoint() -> Iterator[tuple[FakeEndpoint, str]]:
    fake = FakeEndpoint()
    with running(fake.app()) as url:
        yield fake, url


def test_a_new_matching_id_becomes_a_new_model(endpoint: tuple[FakeEndpoint, str]) -> None:
    fake, url = endpoint
    fake.models = {"vlm-2025-01": 1_700_000_000, "text-embed": 1_600_000_000}
    watch = WatchEndpoint(source="openai-endpoint", base_url=url, match="vlm-*", api_key_env="MMW_TEST_KEY",
                          params={"concurrency": 2})
    first = scan_endpoint(watch)
    assert first.skipped == [] and [m.revision for m in first.models] == ["vlm-2025-01"]
    m = first.models[0]
    assert (m.lineage, m.label, m.source, m.adapter, m.order_key) == (
        "vlm-2025-01", "vlm-2025-01", ModelSource.ENDPOINT, "openai", 1_700_000_000.0)
    assert m.adapter_params == {"concurrency": 2, "model": "vlm-2025-01", "base_url": url, "api_key_env": "MMW_TEST_KEY"}

    fake.models = {"vlm-2025-06": 1_750_000_000, **fake.models, "vlm-undated": None, "other-vlm": 1}
    second = scan_endpoint(watch)
    assert [m.revision for m in second.models] == ["vlm-undated", "vlm-2025-01", "vlm-2025-06"]  # by created
    assert second.models[1] == m  # the known id is the same record


def test_one_lineage_when_named(endpoint: tuple[FakeEndpoint, str]) -> None:
    fake, url = endpoint
    fake.models = {"vlm-a": 2, "vlm-b": 1}
    found = scan_endpoint(WatchEndpoint(source="openai-endpoint", base_url=url, lineage="lab-vlm"))
    assert [(m.lineage, m.revision) for m in found.models] == [("lab-vlm", "vlm-b"), ("lab-vlm", "vlm-a")]
    assert {m.model_id for m in found.models} == {"lab-vlm@vlm-a", "lab-vlm@vlm-b"}


def test_key_reaches_the_endpoint_but_never_records_or_logs(endpoint: tuple[FakeEndpoint, str],
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    fake, url = endpoint
    key = "sk-" + secrets.token_hex(16)
    monkeypatch.setenv("MMW_TEST_KEY", key)
    fake.models = {"vlm-1": 1}
    caplog.set_level(logging.DEBUG)
    watch = WatchEndpoint(source="openai-endpoint", base_url=url, api_key_env="MMW_TEST_KEY")
    found = scan_endpoint(watch)
    assert fake.authorizations[-1] == f"Bearer {key}"
    assert found.models[0].adapter_params["api_key_env"] == "MMW_TEST_KEY"

    fake.refuse = True  # the server echoes the key in its error body
    refused = scan_endpoint(watch)
    assert refused.models == [] and "401" in refused.skipped[0] and "***" in refused.skipped[0]
    for text in (repr(found), repr(refused), caplog.text):
        assert key not in text


def test_unset_key_sends_the_local_placeholder(endpoint: tuple[FakeEndpoint, str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    fake, url = endpoint
    monkeypatch.delenv("MMW_TEST_KEY", raising=False)
    fake.models = {"local-vlm": None}
    found = scan_endpoint(WatchEndpoint(source="openai-endpoint", base_url=url, api_key_env="MMW_TEST_KEY"))
    assert fake.authorizations == ["Bearer EMPTY"] and found.models[0].order_key == 0.0


def test_unreachable_endpoint_is_reported_not_raised() -> None:
    found = scan_endpoint(WatchEndpoint(source="openai-endpoint", base_url="http://127.0.0.1:9/v1"))
    assert found.models == [] and "127.0.0.1:9" in found.skipped[0]


def test_registered_as_openai_endpoint(endpoint: tuple[FakeEndpoint, str]) -> None:
    from adapters.openai_api import openai
    from mmwatch import plugins

    fake, url = endpoint
    fake.models = {"vlm-1": 1}
    found = plugins.sources.info("openai-endpoint").factory(
        WatchEndpoint(source="openai-endpoint", base_url=url))()
    model = openai(**found.models[0].adapter_params)  # the openai adapter takes every param the source writes
    assert model.options.model == "vlm-1" and model.options.base_url == url
