"""One JSON POST for the HTTP sinks (webhook, Slack): a single attempt, and errors that say which
receiver failed and how without its secret parts.

A webhook URL often is the credential (Slack's path is its token), so a URL from the environment
is named by its variable, a URL from the config by its origin only, and every part of the URL and
every header value is masked out of whatever the receiver or httpx said.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from mmwatch.alerts.sinks import SinkError

MASK = "***"
TOKEN_CHARS = 12  # a path segment this long may be a token on its own (Slack's is 24)
SNIPPET_CHARS = 200  # of an error body: enough for Slack's "invalid_payload", not a page of HTML


@dataclass(frozen=True)
class Target:
    """A resolved URL, how to name it in a message, and the strings no message may contain."""

    url: str
    where: str
    secrets: tuple[str, ...]

    def scrub(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):  # longest first: one may hold another
            text = text.replace(secret, MASK)
        return text


def check_url_source(sink: str, url: str | None, url_env: str | None) -> None:
    """At build time: a sink posts somewhere, named in the config or by an environment variable."""
    if not url and not url_env:
        raise ValueError(f"{sink} sink: set url_env (the environment variable holding the URL) or url")


def resolve(sink: str, url: str | None, url_env: str | None, headers: Mapping[str, str] | None = None) -> Target:
    """The URL to post to, read now (a rotated secret takes effect without a restart)."""
    if url:
        where = origin(url)
    else:
        assert url_env, "check_url_source rejects a sink with neither"
        url = os.environ.get(url_env, "").strip()
        if not url:
            raise SinkError(f"{sink} sink: environment variable {url_env} (its URL) is not set")
        where = f"the URL in ${url_env}"
    return Target(url, where, secret_parts(url) + tuple(v for v in (headers or {}).values() if v))


def origin(url: str) -> str:
    """scheme://host[:port], without credentials, path or query (where tokens live)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme or '?'}://{parts.hostname or '?'}{f':{port}' if port else ''}"


def secret_parts(url: str) -> tuple[str, ...]:
    parts = urlsplit(url)
    found = [url, parts.path, parts.query, parts.fragment, parts.password or "", parts.username or ""]
    found += [piece for piece in parts.path.split("/") if len(piece) >= TOKEN_CHARS]  # a segment may be the token
    return tuple(p for p in found if p and p != "/")


def post_json(sink: str, target: Target, body: Any, headers: Mapping[str, str], timeout_s: float) -> None:
    """POST `body` once; SinkError unless the receiver answered 2xx."""
    try:
        with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
            response = client.post(target.url, json=body, headers=dict(headers))
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        # `from None`: httpx's exception carries the request, and so the URL, in its chain
        raise SinkError(f"{sink} sink: POST to {target.where} failed: {type(exc).__name__}: "
                        f"{target.scrub(str(exc)) or 'no detail'}") from None
    if not response.is_success:
        snippet = " ".join(response.text[:SNIPPET_CHARS].split())
        detail = f": {target.scrub(snippet)}" if snippet else ""
        raise SinkError(f"{sink} sink: {target.where} answered HTTP {response.status_code}{detail}")


def env_headers(sink: str, headers_env: Mapping[str, str] | None) -> dict[str, str]:
    """Header -> value, each value read from the environment variable the config names."""
    headers: dict[str, str] = {}
    for header, variable in (headers_env or {}).items():
        value = os.environ.get(variable)
        if not value:
            raise SinkError(f"{sink} sink: environment variable {variable} (header {header}) is not set")
        headers[header] = value
    return headers
