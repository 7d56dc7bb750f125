"""`mmwatch serve`'s OpenAI-compatible app over real HTTP on 127.0.0.1, with a scripted model
(to see exactly which Probe a request becomes) and with the tiny LLaVA checkpoint."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from adapters.serve import app_for_checkpoint, build_app, running
from fakes import ScriptedAdapter
from mmwatch.types import ImageData, Probe, Response


def call(url: str, body: Any = None, method: str = "POST") -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def data_url(image: ImageData) -> str:
    return "data:image/png;base64," + base64.b64encode(image.png).decode()


def chat(*messages: dict[str, Any], model: str = "scripted", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": list(messages), **extra}


def answer(probe: Probe) -> Response:
    if probe.text == "fail":
        return Response(error="cannot prepare image")
    return Response(text=f"saw {len(probe.images)} image(s)", tokens_in=12, tokens_out=5)


@pytest.fixture(scope="module")
def scripted() -> Iterator[tuple[ScriptedAdapter, str]]:
    model = ScriptedAdapter(answer)
    with running(build_app(model, "scripted")) as url:
        yield model, url


def test_request_becomes_one_probe(scripted: tuple[ScriptedAdapter, str], red: ImageData, checker: ImageData) -> None:
    model, url = scripted
    model.calls.clear()
    status, body = call(f"{url}/chat/completions", chat(
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": data_url(red)}},
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": data_url(checker), "detail": "low"}},
        ]},
        max_completion_tokens=5, temperature=0.7, top_p=0.9,
    ))
    assert status == 200, body
    [[probe]] = model.calls
    assert (probe.system, probe.text) == ("Be brief.", "What is this?")
    assert [i.sha256 for i in probe.images] == [red.sha256, checker.sha256]  # PNG bytes kept as sent
    assert body["object"] == "chat.completion" and body["model"] == "scripted" and body["id"].startswith("chatcmpl-")
    choice = body["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": "saw 2 image(s)"}
    assert choice["finish_reason"] == "length"  # 5 tokens out of max 5
    assert body["usage"] == {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}


def test_string_content_and_max_tokens(scripted: tuple[ScriptedAdapter, str]) -> None:
    model, url = scripted
    status, body = call(f"{url}/chat/completions", chat({"role": "user", "content": "Hello"}, max_tokens=64))
    assert status == 200 and body["choices"][0]["finish_reason"] == "stop"
    assert model.calls[-1][0].text == "Hello" and model.calls[-1][0].system is None


def test_jpeg_data_url_is_converted_to_png(scripted: tuple[ScriptedAdapter, str]) -> None:
    model, url = scripted
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 200, 0)).save(buf, format="JPEG")
    jpeg = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
    status, _ = call(f"{url}/chat/completions", chat(
        {"role": "user", "content": [{"type": "text", "text": "x"}, {"type": "image_url", "image_url": {"url": jpeg}}]}))
    assert status == 200
    image = model.calls[-1][0].images[0]
    assert image.png.startswith(b"\x89PNG") and image.to_pil().getpixel((8, 8))[1] > 150


@pytest.mark.parametrize(("body", "status", "needle"), [
    (b"{not json", 400, "invalid request"),
    ({"model": "scripted"}, 400, "messages"),
    (chat({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://example.com/a.png"}}]}),
     400, "only data: image URLs"),
    (chat({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}]}),
     400, "invalid base64"),
    (chat({"role": "user", "content": [{"type": "image_url", "image_url": {
        "url": "data:image/png;base64," + base64.b64encode(b"not an image").decode()}}]}), 400, "unreadable image"),
    (chat({"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}), 400, "one user turn"),
    (chat({"role": "system", "content": "only a system turn"}), 400, "no user message"),
    (chat({"role": "user", "content": "hi"}, temperature=5), 400, "temperature"),
    (chat({"role": "user", "content": "hi"}, stream=True), 400, "streaming"),
    (chat({"role": "user", "content": "hi"}, model="gpt-4o"), 404, "not served here"),
    (chat({"role": "user", "content": "fail"}), 500, "cannot prepare image"),
])
def test_bad_requests_get_json_errors(scripted: tuple[ScriptedAdapter, str], body: Any, status: int, needle: str) -> None:
    model, url = scripted
    before = len(model.calls)
    got, payload = call(f"{url}/chat/completions", body)
    assert got == status and needle in payload["error"]["message"], payload
    assert payload["error"]["type"] in ("invalid_request_error", "not_found_error", "server_error")
    assert len(model.calls) == before + (status == 500)  # refused requests never reach the model


def test_models_listing(scripted: tuple[ScriptedAdapter, str]) -> None:
    status, body = call(f"{scripted[1]}/models", method="GET")
    assert status == 200 and [m["id"] for m in body["data"]] == ["scripted"]


def test_requests_that_wait_are_batched_into_one_generate() -> None:
    first_started = threading.Event()

    def slow(probe: Probe) -> Response:
        if probe.text == "q0":  # the model is busy with q0 while q1..q4 arrive
            first_started.set()
            time.sleep(0.5)
        return Response(text=probe.text, tokens_in=1, tokens_out=1)

    model = ScriptedAdapter(slow)
    with running(build_app(model, "slow")) as url:
        def ask(i: int) -> None:
            results[i] = call(f"{url}/chat/completions", chat({"role": "user", "content": f"q{i}"}, model="slow"))

        results: dict[int, tuple[int, dict[str, Any]]] = {}
        threads = [threading.Thread(target=ask, args=(0,))]
        threads[0].start()
        assert first_started.wait(5)
        threads += [threading.Thread(target=ask, args=(i,)) for i in range(1, 5)]
        for t in threads[1:]:
            t.start()
        for t in threads:
            t.join(10)
    assert {i: r[1]["choices"][0]["message"]["content"] for i, r in results.items()} == {i: f"q{i}" for i in range(5)}
    assert [len(c) for c in model.calls] == [1, 4]


def test_serves_the_tiny_llava_checkpoint(tiny_llava: Path, red: ImageData) -> None:
    app, model = app_for_checkpoint(str(tiny_llava))
    try:
        with running(app) as url:
            status, body = call(f"{url}/chat/completions", chat(
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": data_url(red)}},
                                             {"type": "text", "text": "What colour?"}]},
                model="checkpoint-100", max_tokens=6))
    finally:
        model.close()
    assert status == 200, body
    assert 1 <= body["usage"]["completion_tokens"] <= 6 and body["usage"]["prompt_tokens"] > 5


def test_serve_runs_uvicorn_on_the_checkpoint_and_closes_it(tiny_llava: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from adapters.hf.adapter import HFAdapter
    from adapters.serve import serve

    seen: dict[str, Any] = {}
    closed: list[bool] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    monkeypatch.setattr(HFAdapter, "close", lambda self: closed.append(True))
    serve(str(tiny_llava), port=8123, model_name="tiny")
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8123) and seen["app"].title == "mmwatch serve: tiny"
    assert closed == [True]
