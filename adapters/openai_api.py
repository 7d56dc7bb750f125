"""Any OpenAI-compatible chat endpoint: the OpenAI API, vLLM, `mmwatch serve`, other hosted models.

A remote model is latency-bound: the engine streams probes through `agenerate` in a sliding
window of `concurrency` calls; `generate` (synchronous callers) runs a batch concurrently on a
private event loop. Retries are ours, not the SDK's,
so that every retry is logged and the policy is testable: 429, 408/409, 5xx, connection errors,
timeouts and bodies that are no chat completion (cut-short or invalid JSON, an HTML page) back
off exponentially with jitter, or wait what `Retry-After` asks; `openai_faults` names each
failure's kind. A probe that still fails becomes one error Response that names the probe, the
attempts and the kind. The API key is read from the environment only and is scrubbed from every
message we log or return, because error bodies may echo it.
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

from adapters.openai_faults import (  # LOCAL_KEY, scrub and retry_after are also this module's API
    LOCAL_KEY,
    Failure,
    FaultKind,
    check_completion,
    classify_error,
    failure_message,
    redact,
    retry_after,
    scrub,
    status_kind,
)
from mmwatch.aio import run_sync
from mmwatch.plugins import adapter
from mmwatch.types import GenerationParams, Probe, Response

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_HOST = "api.openai.com"


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
            return [Response(error=f"{_where(p)}: {self._no_key()}") for p in probes]
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
            return [Response(error=f"{_where(p)}: {self._no_key()}") for p in probes]
        limit = asyncio.Semaphore(self.options.concurrency)  # this call's own: it runs on its own loop
        try:
            # The client lives on this call's loop: httpx connections cannot move between loops.
            async with AsyncOpenAI(api_key=key, base_url=self.options.base_url, max_retries=0,
                                   timeout=self.options.timeout_s) as client:
                return await self._answer(client, limit, probes, params, key)
        except Exception as exc:  # never raise from generate: the whole batch becomes error cells
            why = f"openai adapter ({FaultKind.UNEXPECTED.value}): {type(exc).__name__}: {exc}"
            return [Response(error=scrub(f"{_where(p)}: {why}", key)) for p in probes]

    async def _answer(self, client: Any, limit: asyncio.Semaphore, probes: list[Probe], params: GenerationParams,
                      key: str) -> list[Response]:

        async def one(probe: Probe) -> Response:
            async with limit:
                try:
                    return await self._call(client, probe, params, key)
                except Exception as exc:  # a bug in one cell must not cost the batch
                    failure = Failure(FaultKind.UNEXPECTED, scrub(f"{type(exc).__name__}: {exc}", key))
                    return Response(error=scrub(failure_message(_where(probe), failure, 1), key))

        if len(probes) == 1:
            return [await one(probes[0])]
        return list(await asyncio.gather(*(one(p) for p in probes)))

    async def _call(self, client: Any, probe: Probe, params: GenerationParams, key: str) -> Response:
        """One probe with retries; the error Response names the probe, the attempts and the last failure."""
        request = self._request(probe, params)
        where, attempt = _where(probe), 0
        while True:
            start = time.perf_counter()
            try:
                completion = await client.chat.completions.create(**request)
            except Exception as exc:  # classified: transient kinds are retried, the rest reported
                failure, asked = classify_error(exc, key, self.options.api_key_env), retry_after(exc)
            else:
                bad_body = check_completion(completion, key)
                if bad_body is None:
                    return self._response(completion, time.perf_counter() - start, key)
                failure, asked = bad_body, None
            if not failure.kind.retryable or attempt >= self.options.max_retries:
                message = scrub(failure_message(where, failure, attempt + 1), key)
                log.warning("openai %s: %s", self.options.model, message)
                return Response(error=message)
            delay = retry_delay(attempt, asked, self.options)
            attempt += 1
            log.warning("openai %s: %s: %s; retry %d/%d in %.2fs", self.options.model, where, failure,
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
        """The answer of a completion that `check_completion` passed."""
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
    """None is a connection error or timeout; 408, 409, 429 and 5xx are the server asking us to come back."""
    return status_kind(status).retryable


def retry_delay(attempt: int, server_asked: float | None, options: OpenAIOptions, rng: random.Random | None = None) -> float:
    """Retry-After if given (capped), else exponential backoff with jitter in [50%, 100%]."""
    if server_asked is not None:
        return min(server_asked, options.retry_after_cap_s)
    full = min(options.backoff_cap_s, options.backoff_base_s * 2**attempt)
    return full * (rng or random).uniform(0.5, 1.0)


def _where(probe: Probe) -> str:
    return f"probe {probe.sample_id}#{probe.index}"
