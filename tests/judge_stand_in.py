"""A scripted OpenAI-compatible judge model on 127.0.0.1, for the model-based judge tests.

The stand-in answers each chat request with the reply scripted for the first `[m:KEY]` marker
found in its messages (tests put the marker into the answer being judged), records every request
body, and answers `[m:http400]` with an HTTP 400 error. It runs the real `openai` adapter against
real HTTP, as a hosted judge would be reached.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from adapters.serve import running

MARKER = re.compile(r"\[m:([a-z0-9_-]+)\]")


@dataclass
class StandIn:
    replies: dict[str, str]
    base_url: str = ""
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def judge_model(self) -> dict[str, Any]:
        """The `judge_model` role parameter that points a judge at this server."""
        return {"adapter": "openai", "params": {"model": "stand-in-judge", "base_url": self.base_url,
                                                 "max_retries": 0, "timeout_s": 20}}

    def texts(self) -> list[str]:
        """The text of every request, system and user parts joined."""
        return [_text(body) for body in self.bodies]


def _text(body: dict[str, Any]) -> str:
    parts = []
    for message in body["messages"]:
        content = message["content"]
        if isinstance(content, str):
            parts.append(content)
        else:
            parts += [p.get("text") or "" for p in content if p["type"] == "text"]
    return "\n".join(parts)


def _completion(text: str) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion", "created": 0, "model": "stand-in-judge",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}}


@contextmanager
def stand_in(replies: dict[str, str]) -> Iterator[StandIn]:
    state = StandIn(replies)
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        state.bodies.append(body)
        found = MARKER.search(_text(body))
        key = found.group(1) if found else ""
        if key == "http400":
            return JSONResponse({"error": {"message": "bad request", "type": "invalid_request_error"}}, 400)
        return JSONResponse(_completion(state.replies.get(key, "no scripted reply")))

    with running(app) as url:
        state.base_url = url
        yield state
