"""What went wrong with one chat call to an OpenAI-compatible endpoint, and whether to ask again.

Every failure gets a `FaultKind`, which decides the retry and is named in the log line and the
error text, so a nightly report says plainly whether the model was rate limited, the server
broke, or the endpoint sent something that is no answer. The SDK reports these in several ways
(openai 1.x-3.x, non-strict parsing): HTTP errors raise `APIStatusError`, timeouts and dropped
connections `APIConnectionError`, a 200 whose JSON is cut short raises `json.JSONDecodeError`
unwrapped, a 200 that is not JSON at all *returns the body text* (a str), and a 200 whose JSON
lacks the fields returns a `ChatCompletion` with `choices=None`. Messages are scrubbed of the
key here, before any of them is cut short, because error bodies may echo it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

LOCAL_KEY = "EMPTY"  # what local OpenAI-compatible servers accept when they check no key
MAX_ERROR_CHARS = 500
SNIPPET_CHARS = 80


class FaultKind(Enum):
    """Why a call failed. Transient kinds are retried with backoff; the rest would fail again."""

    RATE_LIMIT = "rate_limit"  # 429
    SERVER_ERROR = "server_error"  # 5xx, 409
    BAD_BODY = "bad_body"  # a 200 whose body is not a chat completion: invalid JSON, HTML, other JSON
    TIMEOUT = "timeout"  # no answer in timeout_s, or 408
    CONNECTION = "connection"  # refused, reset, closed mid-response
    AUTH = "auth"  # 401, 403: a wrong or missing key
    CLIENT_ERROR = "client_error"  # other 4xx: this request is wrong
    NO_ANSWER = "no_answer"  # a well-formed completion that holds no answer: no choices, null content
    UNEXPECTED = "unexpected"  # anything else: a bug, not a server's fault

    @property
    def retryable(self) -> bool:
        return self in _TRANSIENT


_TRANSIENT = frozenset({FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.BAD_BODY, FaultKind.TIMEOUT,
                        FaultKind.CONNECTION})


@dataclass(frozen=True)
class Failure:
    """One failed attempt: its kind and a scrubbed, readable detail."""

    kind: FaultKind
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.detail}"


def status_kind(status: int | None) -> FaultKind:
    """The kind of an HTTP status; None is a connection error (no status at all)."""
    if status is None:
        return FaultKind.CONNECTION
    if status == 429:
        return FaultKind.RATE_LIMIT
    if status == 408:
        return FaultKind.TIMEOUT
    if status == 409 or status >= 500:  # 409: OpenAI's "try again" on a lock conflict
        return FaultKind.SERVER_ERROR
    if status in (401, 403):
        return FaultKind.AUTH
    return FaultKind.CLIENT_ERROR


def classify_error(exc: BaseException, secret: str | None, key_env: str) -> Failure:
    """The failure an exception from `chat.completions.create` stands for."""
    import openai as sdk

    name = type(exc).__name__
    if isinstance(exc, sdk.APITimeoutError):
        return Failure(FaultKind.TIMEOUT, scrub(f"no answer within the timeout: {name}: {exc}", secret))
    if isinstance(exc, sdk.APIConnectionError):
        cause = exc.__cause__
        why = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
        return Failure(FaultKind.CONNECTION, scrub(f"{name}: {exc}{why}", secret))
    if isinstance(exc, sdk.APIStatusError):
        status = exc.status_code
        kind = status_kind(status)
        body = "" if isinstance(exc.body, dict | list) else f", with a non-JSON body {snippet(str(exc.body or ''), secret)}"
        if kind is FaultKind.AUTH:
            why = f"authentication failed (HTTP {status}): check the key in ${key_env}"
        else:
            why = f"HTTP {status}{body}"
        return Failure(kind, scrub(f"{why}: {name}: {exc}", secret))
    if isinstance(exc, json.JSONDecodeError):
        return Failure(FaultKind.BAD_BODY, scrub(f"endpoint sent invalid JSON ({_json_problem(exc)}): {exc}", secret))
    if isinstance(exc, sdk.APIResponseValidationError):  # strict parsing only; we parse leniently
        return Failure(FaultKind.BAD_BODY, scrub(f"endpoint sent a body that is not a chat completion: {exc}", secret))
    return Failure(FaultKind.UNEXPECTED, scrub(f"{name}: {exc}", secret))


def check_completion(completion: Any, secret: str | None) -> Failure | None:
    """None if `completion` holds an answer, else what is wrong with the body the endpoint sent."""
    if isinstance(completion, str | bytes):
        text = completion.decode(errors="replace") if isinstance(completion, bytes) else completion
        return Failure(FaultKind.BAD_BODY, f"endpoint sent a non-JSON body: {snippet(text, secret)}")
    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list):
        fields = sorted((getattr(completion, "model_extra", None) or {}))[:8]
        return Failure(FaultKind.BAD_BODY, scrub(
            f"endpoint sent JSON that is not a chat completion (no choices; fields: {', '.join(fields) or 'none'})",
            secret))
    if not choices:
        return Failure(FaultKind.NO_ANSWER, "the completion has no choices")
    message = getattr(choices[0], "message", None)
    if message is None:
        return Failure(FaultKind.BAD_BODY, "endpoint sent JSON that is not a chat completion (choice without message)")
    if getattr(message, "content", None) is None and not getattr(message, "refusal", None):
        return Failure(FaultKind.NO_ANSWER, "the answer has no content (content is null, no refusal)")
    return None


def failure_message(where: str, failure: Failure, attempts: int) -> str:
    """The error text of a probe that failed for good: the probe, attempts, kind and detail."""
    tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    retried = "" if failure.kind.retryable else ", not retryable"
    return f"{where} failed after {tries} ({failure.kind.value}{retried}): {failure.detail}"


def retry_after(exc: BaseException) -> float | None:
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


def _json_problem(exc: json.JSONDecodeError) -> str:
    """A body that breaks off where the parser ran out was cut short; else it is malformed."""
    if not exc.doc.strip():
        return "empty body"
    if exc.pos >= len(exc.doc.rstrip()) or exc.msg.startswith("Unterminated"):
        return f"truncated body, {len(exc.doc)} chars"
    return f"malformed body, {len(exc.doc)} chars"


def snippet(text: str, secret: str | None) -> str:
    """The start of a body, scrubbed before it is cut (a cut key would still be a leak)."""
    text = " ".join(redact(text, secret).split())
    return repr(text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 3] + "...")


def redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret and secret != LOCAL_KEY else text


def scrub(text: str, secret: str | None) -> str:
    """Remove the key from a message, and keep messages short (error bodies can be long)."""
    text = redact(text, secret)
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."
