"""Models in: new checkpoints and API models through the real flow, real HTTP on loopback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from adapters.serve import running
from adapters.tiny import make_tiny_model
from flows.nightly import nightly

SECRET = "sk-test-SECRET-9f8e7d6c"


def config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(f"""
store: {{path: {tmp_path}/db.duckdb, artifacts: {tmp_path}/art, snapshot: {tmp_path}/snap.duckdb}}
benchmarks: [{{name: mmwatch-mini, limit: 6}}]
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
canary: {{enabled: false}}
generation: {{max_new_tokens: 6}}
{body}
""")
    return path


def cells_per_model(tmp_path: Path) -> dict[str, int]:
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT m.label, count(*) FROM cells JOIN models m USING (model_id) GROUP BY 1").fetchall()
    return dict(rows)


def test_only_the_new_checkpoint_is_evaluated(prefect_harness: None, tmp_path: Path) -> None:
    lineage = tmp_path / "lineage"
    make_tiny_model(lineage / "step-100", seed=1)
    cfg = config(tmp_path, f"watch: [{{path: {lineage}, adapter: hf}}]")
    first = nightly(str(cfg))
    assert first.models == 1 and first.cells_new == 6
    make_tiny_model(lineage / "step-200", seed=2)
    (lineage / "step-300").mkdir()  # a checkpoint still being written: no config.json yet
    second = nightly(str(cfg))
    assert second.cells_new == 6 and second.cells_stored_before == 6
    assert any("step-300" in s for s in second.skipped_checkpoints)
    assert cells_per_model(tmp_path) == {"step-100": 6, "step-200": 6}
    make_tiny_model(lineage / "step-300-done", seed=3)
    third = nightly(str(cfg))
    assert third.cells_new == 6 and cells_per_model(tmp_path)["step-300-done"] == 6


class ScriptedAPI:
    """An OpenAI-compatible stand-in: `flaky` answers 429 once, `broken` fails with 500 forever."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.auth: set[str] = set()
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self.chat)

    async def chat(self, request: Request) -> JSONResponse:
        body = await request.json()
        model = body["model"]
        self.auth.add(request.headers.get("authorization", ""))
        self.calls[model] = self.calls.get(model, 0) + 1
        if model == "broken":
            return JSONResponse({"error": {"message": f"internal error for key {SECRET}"}}, status_code=500)
        if model == "flaky" and self.calls[model] == 1:
            return JSONResponse({"error": {"message": "slow down"}}, status_code=429, headers={"Retry-After": "0"})
        return JSONResponse({
            "id": "x", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "I'm sorry, I can't help."},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        })


@pytest.fixture()
def api() -> Iterator[tuple[ScriptedAPI, str]]:
    stand_in = ScriptedAPI()
    with running(stand_in.app) as url:
        yield stand_in, url


def test_api_models_retry_fail_alone_and_never_leak_the_key(
    prefect_harness: None, tmp_path: Path, api: tuple[ScriptedAPI, str], monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stand_in, url = api
    monkeypatch.setenv("MMWATCH_TEST_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    params = f"base_url: '{url}', api_key_env: MMWATCH_TEST_KEY, max_retries: 2, concurrency: 1"
    cfg = config(tmp_path, f"""models:
  - {{lineage: api/flaky, adapter: openai, params: {{model: flaky, {params}, price_in_per_mtok: 2.5}}}}
  - {{lineage: api/broken, adapter: openai, params: {{model: broken, {params}}}}}
""")
    benchmark_limit_one = cfg.read_text().replace("limit: 6", "limit: 1")
    cfg.write_text(benchmark_limit_one)
    report = nightly(str(cfg))
    assert report.cells_new == 2 and report.cells_failed == 1  # the run completes
    assert stand_in.calls == {"flaky": 2, "broken": 3}  # 429 then success: one cell; 500: 1 + 2 retries
    assert stand_in.auth == {f"Bearer {SECRET}"}  # the key did reach the server
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        rows: list[Any] = con.execute("SELECT m.lineage, c.error, c.cost_usd FROM cells c JOIN models m USING (model_id) "
                                      "ORDER BY 1").fetchall()
    assert rows[0][0] == "api/broken" and "500" in rows[0][1]
    assert rows[1][1] is None and rows[1][2] == pytest.approx(10 * 2.5 / 1e6)
    for file in (tmp_path / "db.duckdb", tmp_path / "snap.duckdb"):
        assert SECRET.encode() not in file.read_bytes()
    assert SECRET not in caplog.text
