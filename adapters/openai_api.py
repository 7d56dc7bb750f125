"""Any OpenAI-compatible chat endpoint: the OpenAI API, vLLM, `mmwatch serve`, other hosted models.

A remote model is latency-bound: the engine streams probes through `agenerate` in a sliding
window of `concurrency` calls; `generate` (synchronous callers) runs a batch concurrently on a
private event loop. Retries are ours, not the SDK's,
so that every retry is logged and the policy is testable: 429, 408/409, 5xx, connection errors
and timeouts back off exponentially with jitter, or wait what `Retry-After` asks. A probe that
still fails becomes one error Response. The API key is read from the environment only and is
scrubbed from every message we log or return, because error bodies may echo it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from mmwatch.aio import run_sync
from mmwatch.plugins import adapter
from mmwatch.types import GenerationParams, Probe, Response

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_HOST = "api.openai.com"
LOCAL_KEY = "EMPTY"  # what local OpenAI-compatible servers accept when they check no key
RETRY_STATUS = frozenset({408, 409, 429})
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class OpenAIOptions:
    model: str
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 8
    max_retries: int = 5
    timeout_s: float = 60.0
    price_in_per_mtok: float = 0.0
    price_out_per_mtok: float = 0.0
    backoff_base_s: float = 0.5  # first retry waits ~this, doubling each time
    backoff_cap_s: float = 30.0
    retry_after_cap_s: float = 120.0  # never trust a server to park us for longer


def api_limit(params: Mapping[str, Any]) -> tuple[str, int] | None:
    """Units of one provider share its rate: a unit occupies as many slots as calls it keeps in flight."""
    host = urlsplit(str(params.get("base_url") or DEFAULT_HOST)).hostname or DEFAULT_HOST
    return (f"mmwatch-api-{host}", int(params.get("concurrency", 8)))


@adapter("openai", version=1, operational_params=(
    "api_key_env", "concurrency", "max_retries", "timeout_s", "price_in_per_mtok", "price_out_per_mtok"),
    limit=api_limit, remote=True)
def openai(
    model: str,
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    concurrency: int = 8,
    max_retries: int = 5,
    timeout_s: float = 60.0,
    price_in_per_mtok: float = 0.0,
    price_out_per_mtok: float = 0.0,
) -> OpenAIAdapter:
    """A model behind an OpenAI-compatible chat completions endpoint; key from an env variable."""
    if not model:
        raise ValueError("openai adapter: model must be set")
    if concurrency < 1:
        raise ValueError(f"openai adapter: concurrency must be >= 1, got {concurrency}")
    if max_retries < 0:
        raise ValueError(f"openai adapter: max_retries must be >= 0, got {max_retries}")
    if timeout_s <= 0:
        raise ValueError(f"openai adapter: timeout_s must be > 0, got {timeout_s}")
    if price_in_per_mtok < 0 or price_out_per_mtok < 0:
        raise ValueError("openai adapter: prices must be >= 0")
    return OpenAIAdapter(OpenAIOptions(
        model, base_url, api_key_env, concurrency, max_retries, timeout_s, price_in_per_mtok, price_out_per_mtok
    ))


class OpenAIAdapter:
    """ModelAdapter over AsyncOpenAI. Holds no key: it is read from the environment per call.

    `agenerate` keeps one client per event loop for the adapter's life (a unit streams thousands
    of single-probe calls through it); `generate`, for synchronous callers, opens its own.
    """

    def __init__(self, options: OpenAIOptions) -> None:
        self.options = options
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._limit: asyncio.Semaphore | None = None

    @property
    def concurrency(self) -> int:
        return self.options.concurrency

    def generate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        if not probes:
            return []
        return run_sync(self._generate_once(list(probes), params))

    async def agenerate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        """Answer probes on the caller's loop through the adapter's long-lived client."""
        key = self._api_key()
        if key is None:
            return [Response(error=self._no_key()) for _ in probes]
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            from openai import AsyncOpenAI

            self._client = AsyncOpenAI(api_key=key, base_url=self.options.base_url, max_retries=0,
                                       timeout=self.options.timeout_s)
            self._loop, self._limit = loop, asyncio.Semaphore(self.options.concurrency)
        assert self._limit is not None
        return await self._answer(self._client, self._limit, list(probes), params, key)

    async def aclose(self) -> None:
        """Close the long-lived client, on the loop it was made on."""
        client, self._client, self._loop = self._client, None, None
        if client is not None:
            await client.close()

    def list_models(self) -> list[str]:
        """The model ids the endpoint serves (GET /v1/models), for discovery."""
        from openai import OpenAI, OpenAIError

        key = self._api_key()
        if key is None:
            raise ValueError(f"openai adapter: environment variable {self.options.api_key_env} is not set")
        try:
            with OpenAI(api_key=key, base_url=self.options.base_url, max_retries=self.options.max_retries,
                        timeout=self.options.timeout_s) as client:
                return sorted(m.id for m in client.models.list())
        except OpenAIError as exc:
            raise RuntimeError(scrub(f"cannot list models: {type(exc).__name__}: {exc}", key)) from None

    def close(self) -> None:
        """Drop the long-lived client; its loop has ended (the engine awaits `aclose` before)."""
        self._client, self._loop = None, None

    def _api_key(self) -> str | None:
        key = os.environ.get(self.options.api_key_env) or None
        if key is None and self.options.base_url:
            return LOCAL_KEY
        return key

    def _no_key(self) -> str:
        return f"openai adapter: environment variable {self.options.api_key_env} is not set (it holds the API key)"

    async def _generate_once(self, probes: list[Probe], params: GenerationParams) -> list[Response]:
        from openai import AsyncOpenAI

        key = self._api_key()
        if key is None:
            return [Response(error=self._no_key()) for _ in probes]
        limit = asyncio.Semaphore(self.options.concurrency)  # this call's own: it runs on its own loop
        try:
            # The client lives on this call's loop: httpx connections cannot move between loops.
            async with AsyncOpenAI(api_key=key, base_url=self.options.base_url, max_retries=0,
                                   timeout=self.options.timeout_s) as client:
                return await self._answer(client, limit, probes, params, key)
        except Exception as exc:  # never raise from generate: the whole batch becomes error cells
            why = scrub(f"openai adapter: {type(exc).__name__}: {exc}", key)
            return [Response(error=why) for _ in probes]

    async def _answer(self, client: Any, limit: asyncio.Semaphore, probes: list[Probe], params: GenerationParams,
                      key: str) -> list[Response]:

        async def one(probe: Probe) -> Response:
            async with limit:
                try:
                    return await self._call(client, probe, params, key)
                except Exception as exc:  # a bug in one cell must not cost the batch
                    return Response(error=scrub(f"{_where(probe)}: {type(exc).__name__}: {exc}", key))

        if len(probes) == 1:
            return [await one(probes[0])]
        return list(await asyncio.gather(*(one(p) for p in probes)))

    async def _call(self, client: Any, probe: Probe, params: GenerationParams, key: str) -> Response:
        """One probe with retries; the error Response names the probe and the last failure."""
        import openai as sdk

        request = self._request(probe, params)
        attempt = 0
        while True:
            start = time.perf_counter()
            try:
                completion = await client.chat.completions.create(**request)
                return self._response(completion, time.perf_counter() - start, key)
            except (sdk.APIConnectionError, sdk.APIStatusError) as exc:  # timeouts are connection errors
                status = getattr(exc, "status_code", None)
                reason = scrub(f"{type(exc).__name__}: {exc}", key)
                if not retryable(status) or attempt >= self.options.max_retries:
                    tries = f" after {attempt + 1} attempts" if attempt else ""
                    log.warning("openai %s: %s failed%s: %s", self.options.model, _where(probe), tries, reason)
                    return Response(error=f"{_where(probe)}: {reason}{tries}")
                delay = retry_delay(attempt, retry_after(exc), self.options)
                attempt += 1
                log.warning("openai %s: %s: %s; retry %d/%d in %.2fs", self.options.model, _where(probe), reason,
                            attempt, self.options.max_retries, delay)
                await asyncio.sleep(delay)

    def _request(self, probe: Probe, params: GenerationParams) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        if probe.system:
            messages.append({"role": "system", "content": probe.system})
        messages.append({"role": "user", "content": user_content(probe)})
        # The OpenAI API wants max_completion_tokens (reasoning models reject max_tokens); many
        # self-hosted servers only know max_tokens.
        limit_field = "max_tokens" if self.options.base_url else "max_completion_tokens"
        return {"model": self.options.model, "messages": messages, "temperature": params.temperature,
                limit_field: params.max_new_tokens}

    def _response(self, completion: Any, latency_s: float, key: str) -> Response:
        if not completion.choices:
            return Response(error="openai: the response has no choices", latency_s=latency_s)
        message = completion.choices[0].message
        text = message.content if message.content is not None else (getattr(message, "refusal", None) or "")
        text = redact(text, key)  # a hostile endpoint could echo the key back as the answer
        usage = completion.usage
        tokens_in = getattr(usage, "prompt_tokens", None)
        tokens_out = getattr(usage, "completion_tokens", None)
        if tokens_in is None or tokens_out is None:  # some servers omit usage: cost unknown, not zero
            return Response(text=text, latency_s=latency_s)
        cost = tokens_in * self.options.price_in_per_mtok / 1e6 + tokens_out * self.options.price_out_per_mtok / 1e6
        return Response(text=text, tokens_in=tokens_in, tokens_out=tokens_out, latency_s=latency_s, cost_usd=cost)


def user_content(probe: Probe) -> str | list[dict[str, Any]]:
    """Plain string for text-only probes (every server takes it), else image parts then text."""
    if not probe.images:
        return probe.text
    parts: list[dict[str, Any]] = [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(image.png).decode()}}
        for image in probe.images
    ]
    parts.append({"type": "text", "text": probe.text})
    return parts


def retryable(status: int | None) -> bool:
    """None is a connection error or timeout; 429 and 5xx are the server asking us to come back."""
    return status is None or status in RETRY_STATUS or status >= 500


def retry_after(exc: Exception) -> float | None:
    """Seconds from a `Retry-After` (or `retry-after-ms`) header, if the server sent one."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue  # an HTTP date: fall back to our own backoff
        if seconds >= 0:
            return seconds
    return None


def retry_delay(attempt: int, server_asked: float | None, options: OpenAIOptions, rng: random.Random | None = None) -> float:
    """Retry-After if given (capped), else exponential backoff with jitter in [50%, 100%]."""
    if server_asked is not None:
        return min(server_asked, options.retry_after_cap_s)
    full = min(options.backoff_cap_s, options.backoff_base_s * 2**attempt)
    return full * (rng or random).uniform(0.5, 1.0)


def redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret and secret != LOCAL_KEY else text


def scrub(text: str, secret: str | None) -> str:
    """Remove the key from a message, and keep messages short (error bodies can be long)."""
    text = redact(text, secret)
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


def _where(probe: Probe) -> str:
    return f"probe {probe.sample_id}#{probe.index}"
