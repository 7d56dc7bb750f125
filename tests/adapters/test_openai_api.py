"""The `openai` adapter over real HTTP on 127.0.0.1: the project's own server over the tiny LLaVA,
and small stand-in servers that misbehave on purpose (429, 500, slow, key-echoing)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from adapters.openai_api import OpenAIAdapter, OpenAIOptions, openai, retry_delay, retryable
from adapters.serve import build_app, running
from mmwatch.plugins import ModelAdapter
from mmwatch.types import GenerationParams, ImageData, Probe

SECRET = "sk-test-SECRET-123"
KEY_ENV = "MMWATCH_TEST_OPENAI_KEY"
PARAMS = GenerationParams(max_new_tokens=8)


def completion(text: str, tokens_in: int = 11, tokens_out: int = 3) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "stand-in",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": tokens_in, "completion_tokens": tokens_out, "total_tokens": tokens_in + tokens_out},
    }


class StandIn:
    """A scripted chat endpoint: `script(n, body, auth)` answers request number n (from 1)."""

    def __init__(self, script: Callable[[int, dict[str, Any], str], Any]) -> None:
        self.script = script
        self.bodies: list[dict[str, Any]] = []
        self.auth: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self.chat)

    async def chat(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.bodies.append(body)
        self.auth.append(request.headers.get("authorization", ""))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            result = self.script(len(self.bodies), body, self.auth[-1])
            if asyncio.iscoroutine(result):
                result = await result
        finally:
            self.in_flight -= 1
        status, payload, headers = result if isinstance(result, tuple) else (200, result, {})
        return JSONResponse(payload, status_code=status, headers=headers)


@pytest.fixture
def stand_in() -> Iterator[Callable[[Callable[..., Any]], tuple[StandIn, str]]]:
    with_servers: list[Any] = []

    def start(script: Callable[..., Any]) -> tuple[StandIn, str]:
        server = StandIn(script)
        ctx = running(server.app)
        with_servers.append(ctx)
        return server, ctx.__enter__()

    yield start
    for ctx in reversed(with_servers):
        ctx.__exit__(None, None, None)


def fast(adapter: OpenAIAdapter, **changes: Any) -> OpenAIAdapter:
    """Same adapter with millisecond backoff, so retry tests take no time."""
    return OpenAIAdapter(replace(adapter.options, backoff_base_s=0.005, backoff_cap_s=0.02, **changes))


def probe(text: str = "What is shown?", index: int = 0, **fields: Any) -> Probe:
    return Probe(sample_id="test:1", index=index, text=text, **fields)


@pytest.fixture(scope="module")
def served(llava_adapter: ModelAdapter) -> Iterator[str]:
    with running(build_app(llava_adapter, "tiny-llava")) as url:
        yield url


def test_is_a_black_box_model_adapter() -> None:
    adapter = openai("gpt-x")
    assert isinstance(adapter, ModelAdapter)
    with pytest.raises(ValueError, match="concurrency"):
        openai("gpt-x", concurrency=0)


def test_tiny_llava_answers_text_and_images_over_http(
    served: str, llava_adapter: ModelAdapter, red: ImageData, checker: ImageData, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)  # local server: no key needed
    adapter = openai("tiny-llava", base_url=served, api_key_env=KEY_ENV, concurrency=1,
                     price_in_per_mtok=2.0, price_out_per_mtok=10.0)
    probes = [
        probe("Describe the picture."),
        probe("What colour is this?", index=1, images=(red,)),
        probe("What pattern is this?", index=2, images=(checker,), system="Answer briefly."),
    ]
    answers = adapter.generate(probes, PARAMS)
    direct = llava_adapter.generate(probes[1:2], PARAMS)[0]
    for answer in answers:
        assert answer.error is None, answer.error
        assert answer.tokens_in and answer.tokens_out and answer.latency_s is not None
        assert answer.cost_usd == pytest.approx(answer.tokens_in * 2.0 / 1e6 + answer.tokens_out * 10.0 / 1e6)
    # The image reached the model: its tokens count, and the answer is the one the model gives locally.
    assert answers[1].tokens_in > answers[0].tokens_in + 5
    assert (answers[1].text, answers[1].tokens_in, answers[1].tokens_out) == (direct.text, direct.tokens_in, direct.tokens_out)


def test_list_models_reads_v1_models(served: str) -> None:
    assert openai("tiny-llava", base_url=served).list_models() == ["tiny-llava"]


def test_429_with_retry_after_is_retried_once(stand_in: Any, monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    server, url = stand_in(lambda n, body, auth: (429, {"error": {"message": "slow down"}}, {"Retry-After": "0"})
                           if n == 1 else completion("fine", 20, 4))
    caplog.set_level(logging.INFO, logger="adapters.openai_api")
    adapter = openai("m", base_url=url, api_key_env=KEY_ENV, price_in_per_mtok=1.0, price_out_per_mtok=4.0)
    answers = adapter.generate([probe()], PARAMS)
    assert len(answers) == 1 and answers[0].error is None and answers[0].text == "fine"
    assert (answers[0].tokens_in, answers[0].tokens_out) == (20, 4)
    assert answers[0].cost_usd == pytest.approx(20 * 1.0 / 1e6 + 4 * 4.0 / 1e6)
    assert len(server.bodies) == 2
    assert server.auth == [f"Bearer {SECRET}"] * 2  # the key comes from the named env variable
    assert "retry 1/5 in 0.00s" in caplog.text  # Retry-After: 0 beat the 0.5 s default backoff


def test_500_forever_gives_error_responses_after_max_retries(stand_in: Any) -> None:
    server, url = stand_in(lambda n, body, auth: (500, {"error": {"message": "boom"}}, {}))
    adapter = fast(openai("m", base_url=url, max_retries=2))
    answers = adapter.generate([probe(index=0), probe(index=1)], PARAMS)
    assert len(server.bodies) == 2 * 3
    for k, answer in enumerate(answers):
        assert answer.text == "" and answer.error is not None
        assert f"probe test:1#{k}" in answer.error and "InternalServerError" in answer.error
        assert "after 3 attempts" in answer.error


def test_client_errors_are_not_retried(stand_in: Any) -> None:
    server, url = stand_in(lambda n, body, auth: (400, {"error": {"message": "bad image"}}, {}))
    [answer] = fast(openai("m", base_url=url)).generate([probe()], PARAMS)
    assert len(server.bodies) == 1 and answer.error is not None and "BadRequestError" in answer.error


def test_timeouts_are_retried_then_reported(stand_in: Any) -> None:
    async def slow(n: int, body: dict[str, Any], auth: str) -> dict[str, Any]:
        await asyncio.sleep(0.6)
        return completion("late")

    server, url = stand_in(slow)
    start = time.perf_counter()
    [answer] = fast(openai("m", base_url=url, max_retries=1, timeout_s=0.2)).generate([probe()], PARAMS)
    assert answer.error is not None and "Timeout" in answer.error
    assert len(server.bodies) == 2 and time.perf_counter() - start < 0.6 * 2


def test_requests_carry_text_images_system_and_params_concurrently_in_order(
    stand_in: Any, red: ImageData
) -> None:
    async def echo(n: int, body: dict[str, Any], auth: str) -> dict[str, Any]:
        await asyncio.sleep(0.05)
        content = body["messages"][-1]["content"]
        text = content if isinstance(content, str) else content[-1]["text"]
        return completion(f"echo {text}")

    server, url = stand_in(echo)
    probes = [probe(f"q{i}", index=i) for i in range(9)] + [probe("img", index=9, images=(red,), system="sys")]
    answers = openai("m", base_url=url, concurrency=3).generate(probes, GenerationParams(max_new_tokens=7, temperature=0.5))
    assert [a.text for a in answers] == [f"echo q{i}" for i in range(9)] + ["echo img"]
    assert server.max_in_flight == 3
    last = next(b for b in server.bodies if b["messages"][0]["role"] == "system")
    assert last["messages"][0]["content"] == "sys"
    image_part, text_part = last["messages"][1]["content"]
    assert image_part["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(red.png).decode()
    assert text_part == {"type": "text", "text": "img"}
    assert (last["max_tokens"], last["temperature"], last["model"]) == (7, 0.5, "m")


def test_api_key_never_leaks_into_logs_or_responses(
    stand_in: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The stand-in echoes the Authorization header in errors and answers, as a careless proxy might."""
    monkeypatch.setenv(KEY_ENV, SECRET)

    def echo_key(n: int, body: dict[str, Any], auth: str) -> Any:
        if body["messages"][-1]["content"] == "ok":
            return completion(f"you sent {auth}")
        status = 503 if n % 2 else 401
        return status, {"error": {"message": f"rejected credentials {auth}"}}, {"Retry-After": "0"}

    server, url = stand_in(echo_key)
    caplog.set_level(logging.DEBUG)  # root: openai, httpx2, uvicorn and ours
    for name in ("openai", "httpx2", "httpcore2", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    adapter = fast(openai("m", base_url=url, api_key_env=KEY_ENV, max_retries=2))
    answers = adapter.generate([probe("ok"), probe("fail", index=1)], PARAMS)
    with pytest.raises(RuntimeError) as listing:  # the stand-in has no /v1/models
        adapter.list_models()
    assert all(a == f"Bearer {SECRET}" for a in server.auth)  # the server did get (and echo) the key
    assert "***" in (answers[1].error or "") and answers[0].text == "you sent Bearer ***"
    assert caplog.records and any(r.name.startswith("openai") for r in caplog.records)
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    returned = json.dumps([a.model_dump() for a in answers])
    for place in (logged, caplog.text, returned, str(listing.value), repr(vars(adapter))):
        assert SECRET not in place


def test_missing_key_names_the_variable_without_a_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    answers = openai("gpt-x", api_key_env=KEY_ENV).generate([probe(), probe(index=1)], PARAMS)
    assert len(answers) == 2 and all(KEY_ENV in (a.error or "") for a in answers)


def test_local_server_without_key_gets_placeholder(stand_in: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    server, url = stand_in(lambda n, body, auth: completion("hi"))
    [answer] = openai("m", base_url=url, api_key_env=KEY_ENV).generate([probe()], PARAMS)
    assert answer.text == "hi" and server.auth == ["Bearer EMPTY"]


def test_structured_refusal_without_usage(stand_in: Any) -> None:
    """A refusal may come in `message.refusal` with no content, and some servers send no usage."""
    body = completion("")
    body["choices"][0]["message"] = {"role": "assistant", "content": None, "refusal": "I can't help with that."}
    del body["usage"]
    server, url = stand_in(lambda n, b, auth: body)
    [answer] = openai("m", base_url=url, price_in_per_mtok=1.0).generate([probe()], PARAMS)
    assert answer.error is None and answer.text == "I can't help with that."
    assert (answer.tokens_in, answer.tokens_out, answer.cost_usd) == (None, None, None)


def test_generate_works_inside_a_running_event_loop(stand_in: Any) -> None:
    server, url = stand_in(lambda n, body, auth: completion("inside"))
    adapter = openai("m", base_url=url)

    async def caller() -> list[str]:
        return [a.text for a in adapter.generate([probe()], PARAMS)]

    assert asyncio.run(caller()) == ["inside"]


def test_unreachable_server_is_an_error_response_not_an_exception() -> None:
    adapter = fast(openai("m", base_url="http://127.0.0.1:9/v1", max_retries=1))  # discard port: refused
    [answer] = adapter.generate([probe()], PARAMS)
    assert answer.error is not None and "APIConnectionError" in answer.error


def test_retry_policy() -> None:
    options = OpenAIOptions("m", backoff_base_s=1.0, backoff_cap_s=5.0, retry_after_cap_s=60.0)
    rng = random.Random(0)
    for attempt, full in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 5.0), (9, 5.0)]:
        delays = [retry_delay(attempt, None, options, rng) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays) and len(set(delays)) > 1  # jittered
    assert retry_delay(3, 2.5, options) == 2.5  # the server's Retry-After wins
    assert retry_delay(0, 3600.0, options) == 60.0  # ... up to a cap
    assert [s for s in (None, 400, 401, 404, 408, 429, 500, 503) if retryable(s)] == [None, 408, 429, 500, 503]


def test_registered_under_openai() -> None:
    from mmwatch.plugins import adapters

    built = adapters.build("openai", {"model": "gpt-x", "price_in_per_mtok": 1.5})
    assert isinstance(built.obj, OpenAIAdapter)
    assert built.spec.label == "openai(model=gpt-x,price_in_per_mtok=1.5)"
    assert built.spec.params["api_key_env"] == "OPENAI_API_KEY"  # the spec names the variable, never the key
