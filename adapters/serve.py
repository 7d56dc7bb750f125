"""An OpenAI-compatible server in front of any ModelAdapter (`mmwatch serve CHECKPOINT`).

It lets a checkpoint be evaluated over HTTP exactly like a hosted model, and lets the `openai`
adapter be tested against a real model. Requests that arrive while the model is busy are
answered together in one `generate` call (batched, one generation at a time), because a local
model is throughput-bound and its tokenizer is not safe to call from several threads. Images
must come inline as data: URLs: the server never fetches anything from the network.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import io
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from PIL import Image
from pydantic import BaseModel, ConfigDict, ValidationError

from mmwatch.plugins import ModelAdapter
from mmwatch.types import GenerationParams, ImageData, Probe, Response

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with an HTTP status and an OpenAI-style type."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", param: str | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.param = status, message, kind, param


class ImageURL(BaseModel):
    url: str
    detail: str | None = None


class Part(BaseModel):
    type: Literal["text", "image_url"]
    text: str | None = None
    image_url: ImageURL | None = None


class Message(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[Part] | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # top_p, seed, user ...: accepted, not used

    model: str
    messages: list[Message]
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    n: int = 1
    stream: bool = False


def build_app(adapter: ModelAdapter, model_name: str, max_batch: int = 8) -> FastAPI:
    """The app: GET /v1/models and POST /v1/chat/completions, answered by `adapter`."""
    batcher = _Batcher(adapter, max_batch)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        task = batcher.start()
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(title=f"mmwatch serve: {model_name}", lifespan=lifespan)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.kind, exc.param)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(400, f"invalid request: {where or 'body'}: {first.get('msg', 'malformed body')}")

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("serve: unhandled error")
        return _error(500, f"internal error: {type(exc).__name__}: {exc}", "server_error")

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model_name, "object": "model", "created": 0, "owned_by": "mmwatch"}]}

    @app.post("/v1/chat/completions")
    async def chat(body: ChatRequest) -> dict[str, Any]:
        if body.model != model_name:
            raise ApiError(404, f"model {body.model!r} is not served here (this server serves {model_name!r})",
                           "not_found_error", "model")
        request_id = f"chatcmpl-{uuid.uuid4().hex}"
        probe, params = to_probe(body, request_id)
        answer = await batcher.submit(probe, params)
        if answer.error is not None:
            raise ApiError(500, f"generation failed: {answer.error}", "server_error")
        tokens_in, tokens_out = answer.tokens_in or 0, answer.tokens_out or 0
        return {
            "id": request_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model_name,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": answer.text},
                "finish_reason": "length" if tokens_out >= params.max_new_tokens else "stop",
                "logprobs": None,
            }],
            "usage": {"prompt_tokens": tokens_in, "completion_tokens": tokens_out,
                      "total_tokens": tokens_in + tokens_out},
        }

    return app


def to_probe(body: ChatRequest, request_id: str) -> tuple[Probe, GenerationParams]:
    """One request -> one probe: system turns become the system text, user turns text + images."""
    if body.stream:
        raise ApiError(400, "streaming is not supported", param="stream")
    if body.n != 1:
        raise ApiError(400, "only n=1 is supported", param="n")
    system: list[str] = []
    texts: list[str] = []
    images: list[ImageData] = []
    for i, message in enumerate(body.messages):
        if message.role in ("assistant", "tool"):
            raise ApiError(400, f"messages[{i}]: role {message.role!r} is not supported (one user turn only)",
                           param=f"messages[{i}].role")
        parts = [Part(type="text", text=message.content)] if isinstance(message.content, str) else message.content or []
        for k, part in enumerate(parts):
            where = f"messages[{i}].content[{k}]"
            if part.type == "text":
                (system if message.role in ("system", "developer") else texts).append(part.text or "")
            elif message.role != "user" or part.image_url is None:
                raise ApiError(400, f"{where}: image_url parts belong in user messages and need a url", param=where)
            else:
                images.append(decode_image(part.image_url.url, where))
    if not texts and not images:
        raise ApiError(400, "the request has no user message", param="messages")
    limit = body.max_completion_tokens or body.max_tokens
    try:
        params = GenerationParams(
            max_new_tokens=limit if limit is not None else GenerationParams().max_new_tokens,
            temperature=body.temperature if body.temperature is not None else 0.0,
            batch_size=1,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ApiError(400, f"{first['loc'][0]}: {first['msg']}", param=str(first["loc"][0])) from None
    probe = Probe(sample_id=f"serve:{request_id}", system="\n\n".join(system) or None, text="\n\n".join(texts),
                  images=tuple(images))
    return probe, params


def decode_image(url: str, where: str) -> ImageData:
    """A `data:image/...;base64,` URL -> PNG ImageData; anything else is refused (no network)."""
    if not url.startswith("data:"):
        raise ApiError(400, f"{where}: only data: image URLs are accepted (this server makes no network "
                            f"requests); got a {url.split(':', 1)[0]!r} URL", param=where)
    header, _, payload = url.partition(",")
    if not header.startswith("data:image/") or not header.endswith(";base64"):
        raise ApiError(400, f"{where}: expected data:image/<type>;base64,<data>", param=where)
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, f"{where}: invalid base64 image data", param=where) from None
    try:
        with Image.open(io.BytesIO(raw)) as img:
            img.load()
            # PNG bytes are kept as sent, so an image's hash survives the trip through HTTP.
            return ImageData(png=raw) if img.format == "PNG" else ImageData.from_pil(img.convert("RGB"))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ApiError(400, f"{where}: unreadable image: {exc}", param=where) from None


class _Batcher:
    """Queues requests and answers whatever is waiting in one generate call per GenerationParams."""

    def __init__(self, adapter: ModelAdapter, max_batch: int) -> None:
        self.adapter = adapter
        self.max_batch = max(1, max_batch)
        self._queue: asyncio.Queue[tuple[Probe, GenerationParams, asyncio.Future[Response]]] | None = None

    async def submit(self, probe: Probe, params: GenerationParams) -> Response:
        if self._queue is None:
            raise ApiError(503, "server is not started", "server_error")
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        await self._queue.put((probe, params, future))
        return await future

    def start(self) -> asyncio.Task[None]:
        """The queue exists before this returns, so no request can arrive ahead of it."""
        queue: asyncio.Queue[tuple[Probe, GenerationParams, asyncio.Future[Response]]] = asyncio.Queue()
        self._queue = queue
        return asyncio.create_task(self._run(queue))

    async def _run(self, queue: asyncio.Queue[tuple[Probe, GenerationParams, asyncio.Future[Response]]]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self.max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            groups: dict[GenerationParams, list[tuple[Probe, asyncio.Future[Response]]]] = {}
            for probe, params, future in batch:
                groups.setdefault(params, []).append((probe, future))
            for params, items in groups.items():
                await self._answer(params, items)

    async def _answer(self, params: GenerationParams, items: list[tuple[Probe, asyncio.Future[Response]]]) -> None:
        live = [(p, f) for p, f in items if not f.done()]  # a client that hung up needs no answer
        if not live:
            return
        batch_params = params.model_copy(update={"batch_size": len(live)})
        try:
            answers = await asyncio.to_thread(self.adapter.generate, [p for p, _ in live], batch_params)
            if len(answers) != len(live):
                raise RuntimeError(f"adapter returned {len(answers)} responses for {len(live)} probes")
        except Exception as exc:  # adapters should not raise; if one does, its batch gets the error
            log.exception("serve: generate failed")
            answers = [Response(error=f"{type(exc).__name__}: {exc}")] * len(live)
        for (_, future), answer in zip(live, answers, strict=True):
            if not future.done():
                future.set_result(answer)


def _error(status: int, message: str, kind: str = "invalid_request_error", param: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": None}}, status_code=status)


def app_for_checkpoint(checkpoint: str, model_name: str | None = None) -> tuple[FastAPI, ModelAdapter]:
    """The app over an `hf` adapter for a local folder or hub id; the model loads on first request."""
    from mmwatch.plugins import adapters

    model = adapters.build("hf", {"path": checkpoint}).obj
    return build_app(model, model_name or Path(checkpoint).name or checkpoint), model


def serve(checkpoint: str, host: str = "127.0.0.1", port: int = 8000, model_name: str | None = None) -> None:
    """Serve a checkpoint until interrupted (what `mmwatch serve CHECKPOINT --port N` runs)."""
    import uvicorn

    app, model = app_for_checkpoint(checkpoint, model_name)
    try:
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        model.close()


@contextlib.contextmanager
def running(app: FastAPI, host: str = "127.0.0.1") -> Iterator[str]:
    """Run `app` with uvicorn in a thread on a free port; yields the base URL (`http://h:p/v1`).

    For tests and benchmarks: the socket is bound before the thread starts, so there is no race
    for the port, and the server is stopped (and the thread joined) on exit.
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"loopback server on {host}:{port} did not start")
            time.sleep(0.01)
        yield f"http://{host}:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
