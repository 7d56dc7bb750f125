"""A misbehaving OpenAI-compatible endpoint on 127.0.0.1, for fault-injection tests.

Each request to POST /v1/chat/completions is answered with the `Fault` a schedule picks for it:
a list served in arrival order (`Scripted`), a list per prompt (`PerPrompt`), or a seeded random
draw per (prompt, attempt) (`Seeded`), which stays reproducible however concurrent calls
interleave. GET /v1/models lists `models`. Every request is recorded (`requests`) before it is
answered, so tests can count attempts.

It is built on the standard library's threading HTTP server rather than uvicorn because some
faults need the raw socket: a body cut short, a connection closed mid-response.

    with FaultEndpoint(Scripted([Fault.HTTP_503, Fault.OK])) as server:
        adapter = openai("m", base_url=server.url)
        ...
        assert server.attempts("What is shown?") == 2
"""

from __future__ import annotations

import json
import random
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

import pytest

CHAT = "/v1/chat/completions"
MODELS = "/v1/models"


class Fault(Enum):
    """What the endpoint does with one request."""

    OK = "ok"  # a good chat completion (or the model listing)
    RATE_LIMIT = "rate_limit"  # 429 with Retry-After
    HTTP_500 = "http_500"  # 5xx with an HTML body, as a proxy in front of a dead server sends
    HTTP_502 = "http_502"
    HTTP_503 = "http_503"
    TRUNCATED_JSON = "truncated_json"  # 200, application/json, the body cut in half
    NOT_JSON = "not_json"  # 200, text/html
    NOT_COMPLETION = "not_completion"  # 200, valid JSON that is no chat completion
    NO_CHOICES = "no_choices"  # 200, a completion with "choices": []
    NULL_CONTENT = "null_content"  # 200, message.content null and no refusal
    SLOW = "slow"  # a good answer after `slow_s` (beyond a short client timeout)
    DROP = "drop"  # headers and part of the body, then the socket is closed
    UNAUTHORIZED = "unauthorized"  # 401 whose message quotes the key, as some providers do
    BAD_REQUEST = "bad_request"  # 400
    ECHO_KEY = "echo_key"  # 200 whose answer text quotes the Authorization header
    ECHO_KEY_ERROR = "echo_key_error"  # 500 whose JSON error quotes the Authorization header


@dataclass(frozen=True)
class Received:
    """One request as the endpoint saw it, and the fault it was answered with."""

    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names
    body: Any  # parsed JSON, or None
    fault: Fault
    attempt: int  # 1 for the first request with this prompt, 2 for its first retry, ...

    @property
    def authorization(self) -> str:
        return self.headers.get("authorization", "")

    @property
    def key(self) -> str:
        """The bearer token the client sent."""
        return self.authorization.removeprefix("Bearer ")

    @property
    def prompt(self) -> str:
        """The text of the last message (its text parts joined), "" for non-chat requests."""
        return prompt_of(self.body)


class Schedule(Protocol):
    """Picks the fault for a request; `attempt` counts requests with the same prompt, from 1."""

    def __call__(self, prompt: str, attempt: int) -> Fault: ...


class Scripted:
    """Faults in arrival order, then `then` for every later request."""

    def __init__(self, faults: Sequence[Fault] = (), then: Fault = Fault.OK) -> None:
        self._faults, self._then, self._lock = list(faults), then, threading.Lock()

    def __call__(self, prompt: str, attempt: int) -> Fault:
        with self._lock:
            return self._faults.pop(0) if self._faults else self._then


class PerPrompt:
    """Each prompt's own list of faults, by attempt; `then` after it (and for unknown prompts)."""

    def __init__(self, faults: Mapping[str, Sequence[Fault]], then: Fault = Fault.OK) -> None:
        self._faults, self._then = {p: list(f) for p, f in faults.items()}, then

    def __call__(self, prompt: str, attempt: int) -> Fault:
        faults = self._faults.get(prompt, [])
        return faults[attempt - 1] if attempt <= len(faults) else self._then


class Seeded:
    """A random fault per (prompt, attempt) from `seed`: the same draw whatever the arrival order.

    With probability `ok_rate` the request is answered well, else with one of `faults`.
    """

    def __init__(self, seed: int, faults: Sequence[Fault] = tuple(Fault), ok_rate: float = 0.5) -> None:
        self.seed, self.faults, self.ok_rate = seed, list(faults), ok_rate

    def __call__(self, prompt: str, attempt: int) -> Fault:
        rng = random.Random(f"{self.seed}|{prompt}|{attempt}")
        return Fault.OK if rng.random() < self.ok_rate else rng.choice(self.faults)

    def plan(self, prompt: str, attempts: int) -> list[Fault]:
        """The faults the first `attempts` requests with `prompt` will get."""
        return [self(prompt, n) for n in range(1, attempts + 1)]


def prompt_of(body: Any) -> str:
    if not isinstance(body, dict) or not body.get("messages"):
        return ""
    content = body["messages"][-1].get("content")
    if isinstance(content, list):
        return "\n".join(p.get("text") or "" for p in content if isinstance(p, dict) and p.get("type") == "text")
    return content if isinstance(content, str) else ""


def completion(text: str, model: str = "fault-endpoint", tokens_in: int = 11, tokens_out: int = 3) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fault", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": tokens_in, "completion_tokens": tokens_out, "total_tokens": tokens_in + tokens_out},
    }


def _html(status: int, reason: str) -> str:
    return f"<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1><hr>nginx</body></html>"


def _error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class FaultEndpoint:
    """The server. Start and stop it with `with` (or `start`/`stop`); `url` is the base URL (…/v1).

    schedule: which fault each chat request gets (a plain list means `Scripted(list)`).
    models: what GET /v1/models lists: ids (str) or whole model objects (dict); the text `{key}`
        in an id is replaced by the key the request carried, to test that listings are scrubbed.
        The attribute may be reassigned while the server runs.
    models_schedule: faults for GET /v1/models (chat-only faults there just serve the listing).
    answer: the text of a good answer, from the request; by default "answer to <prompt>".
    slow_s: how long SLOW waits before answering; retry_after: the 429's Retry-After header.
    """

    def __init__(self, schedule: Schedule | Sequence[Fault] = (), *, models: Sequence[str | dict[str, Any]] = ("stand-in",),
                 models_schedule: Schedule | Sequence[Fault] = (), answer: Callable[[Received], str] | None = None,
                 slow_s: float = 2.0, retry_after: str = "0") -> None:
        self.schedule: Schedule = schedule if callable(schedule) else Scripted(schedule)
        self.models_schedule: Schedule = models_schedule if callable(models_schedule) else Scripted(models_schedule)
        self.models = list(models)
        self.answer = answer or (lambda r: f"answer to {r.prompt}")
        self.slow_s, self.retry_after = slow_s, retry_after
        self.requests: list[Received] = []
        self._counts: dict[tuple[str, str], int] = defaultdict(int)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- what tests read --------------------------------------------------------------------

    def chat_requests(self) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.path == CHAT]

    def attempts(self, prompt: str) -> int:
        """How many chat requests carried `prompt`."""
        return sum(1 for r in self.chat_requests() if r.prompt == prompt)

    def faults(self, prompt: str) -> list[Fault]:
        """The faults served to `prompt`'s requests, in order."""
        return [r.fault for r in self.chat_requests() if r.prompt == prompt]

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> FaultEndpoint:
        """Bind 127.0.0.1 on a free port (bound before the thread starts: no race) and serve."""
        self._stopping.clear()
        handler = type("Handler", (_Handler,), {"endpoint": self})
        self._server = _Listener(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fault-endpoint-{port}", daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{port}/v1"
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes SLOW handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FaultEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving ----------------------------------------------------------------------------

    def _receive(self, method: str, path: str, headers: Mapping[str, str], body: Any) -> Received:
        prompt = prompt_of(body)
        with self._lock:
            self._counts[(path, prompt)] += 1
            attempt = self._counts[(path, prompt)]
        schedule = self.schedule if path == CHAT else self.models_schedule
        fault = schedule(prompt, attempt) if path in (CHAT, MODELS) else Fault.OK
        received = Received(method, path, dict(headers), body, fault, attempt)
        with self._lock:
            self.requests.append(received)
        return received

    def _good(self, request: Received) -> dict[str, Any]:
        if request.path == MODELS:
            data = [m if isinstance(m, dict) else {"id": m, "object": "model", "created": 0, "owned_by": "fault-endpoint"}
                    for m in self.models]
            data = [{**m, "id": str(m["id"]).replace("{key}", request.key)} for m in data]
            return {"object": "list", "data": data}
        model = request.body.get("model", "fault-endpoint") if isinstance(request.body, dict) else "fault-endpoint"
        return completion(self.answer(request), model=model)

    def _reply(self, request: Received) -> tuple[int, dict[str, str], bytes] | None:
        """(status, headers, body) for the request's fault; None for DROP (the handler cuts it)."""
        fault, json_type = request.fault, {"Content-Type": "application/json"}
        html_type = {"Content-Type": "text/html; charset=utf-8"}
        chat = request.path == CHAT
        if fault is Fault.SLOW:
            self._stopping.wait(self.slow_s)
        if fault is Fault.RATE_LIMIT:
            return 429, {**json_type, "Retry-After": self.retry_after}, _json(_error(
                "Rate limit reached for requests", "requests", "rate_limit_exceeded"))
        if fault in (Fault.HTTP_500, Fault.HTTP_502, Fault.HTTP_503):
            status = int(fault.value[-3:])
            reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Temporarily Unavailable"}[status]
            return status, html_type, _html(status, reason).encode()
        if fault is Fault.TRUNCATED_JSON:
            whole = _json(self._good(request))
            return 200, json_type, whole[: len(whole) // 2]
        if fault is Fault.NOT_JSON:
            return 200, html_type, _html(200, "Welcome to nginx!").encode()
        if fault is Fault.NOT_COMPLETION and chat:
            return 200, json_type, _json({"status": "queued", "detail": "upstream busy"})
        if fault is Fault.UNAUTHORIZED:
            return 401, json_type, _json(_error(f"Incorrect API key provided: {request.key}.",
                                                "invalid_request_error", "invalid_api_key"))
        if fault is Fault.BAD_REQUEST:
            return 400, json_type, _json(_error("Invalid image data", "invalid_request_error"))
        if fault is Fault.ECHO_KEY_ERROR:
            return 500, json_type, _json(_error(f"upstream rejected credentials {request.authorization}", "server_error"))
        if fault is Fault.DROP:
            return None
        body = self._good(request)
        if chat and fault is Fault.NO_CHOICES:
            body["choices"] = []
        elif chat and fault is Fault.NULL_CONTENT:
            body["choices"][0]["message"]["content"] = None
        elif chat and fault is Fault.ECHO_KEY:
            body["choices"][0]["message"]["content"] = f"you sent {request.authorization}"
        return 200, json_type, _json(body)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


class _Listener(ThreadingHTTPServer):
    """A listen backlog for a client's whole window: the stdlib's 5 resets the connections of an
    adapter with 8 calls in flight on a busy machine (a fault the test did not ask for)."""

    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    endpoint: FaultEndpoint
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
    timeout = 30  # an idle keep-alive connection frees its thread after this

    def do_GET(self) -> None:
        self._handle(None)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self._handle(body)

    def _handle(self, body: Any) -> None:
        path = self.path.split("?", 1)[0]
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = self.endpoint._receive(self.command, path, headers, body)
        try:
            if path not in (CHAT, MODELS):
                self._send(404, {"Content-Type": "application/json"}, _json(_error(f"no route {path}", "not_found")))
                return
            reply = self.endpoint._reply(request)
            if reply is None:
                self._drop(_json(self.endpoint._good(request)))
            else:
                self._send(*reply)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. timed out on SLOW)
            self.close_connection = True

    def _send(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drop(self, whole: bytes) -> None:
        """Promise the whole body, send a third of it, close the socket."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(whole)))
        self.end_headers()
        self.wfile.write(whole[: len(whole) // 3])
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(2)  # SHUT_RDWR: the client sees the peer go mid-body

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        pass  # tests read `requests`, not stderr


@pytest.fixture
def fault_endpoint() -> Iterator[Callable[..., FaultEndpoint]]:
    """`fault_endpoint(schedule, **options)` starts a FaultEndpoint; all are stopped after the test.

    Use it from a test module with `from fault_endpoint import fault_endpoint  # noqa: F401`.
    """
    started: list[FaultEndpoint] = []

    def start(schedule: Schedule | Sequence[Fault] = (), **options: Any) -> FaultEndpoint:
        server = FaultEndpoint(schedule, **options).start()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()


__all__ = ["CHAT", "MODELS", "Fault", "FaultEndpoint", "PerPrompt", "Received", "Schedule", "Scripted", "Seeded",
           "completion", "fault_endpoint", "prompt_of"]
