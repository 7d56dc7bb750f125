"""Family 1, API faults: the `openai` adapter against a loopback endpoint serving each fault it can."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from dataclasses import replace
from pathlib import Path

from adapters.openai_api import OpenAIAdapter, openai
from adapters.openai_faults import FaultKind
from mmwatch.types import GenerationParams, Probe, Response

from .common import KEY_ENV, SECRET, Outcome, capture_logs, check, short
from .endpoint import Fault, FaultEndpoint, PerPrompt, Schedule, Seeded

PARAMS = GenerationParams(max_new_tokens=8)
API_KIND: dict[Fault, FaultKind | None] = {  # what the adapter must call each fault; None: an answer
    Fault.RATE_LIMIT: FaultKind.RATE_LIMIT, Fault.HTTP_500: FaultKind.SERVER_ERROR,
    Fault.HTTP_502: FaultKind.SERVER_ERROR, Fault.HTTP_503: FaultKind.SERVER_ERROR,
    Fault.ECHO_KEY_ERROR: FaultKind.SERVER_ERROR, Fault.TRUNCATED_JSON: FaultKind.BAD_BODY,
    Fault.NOT_JSON: FaultKind.BAD_BODY, Fault.NOT_COMPLETION: FaultKind.BAD_BODY, Fault.SLOW: FaultKind.TIMEOUT,
    Fault.DROP: FaultKind.CONNECTION, Fault.UNAUTHORIZED: FaultKind.AUTH, Fault.BAD_REQUEST: FaultKind.CLIENT_ERROR,
    Fault.NO_CHOICES: FaultKind.NO_ANSWER, Fault.NULL_CONTENT: FaultKind.NO_ANSWER, Fault.ECHO_KEY: None,
    Fault.OK: None,
}
API_RETRIES = 2
API_TIMEOUT_S, API_SLOW_S = 0.25, 1.0  # the client gives up on a SLOW answer long before it comes


def api_faults(tmp: Path) -> list[Outcome]:
    """Each fault kind the endpoint can serve: transient ones recovering after 2 and never, the rest once."""
    os.environ[KEY_ENV] = SECRET
    out: list[Outcome] = []
    index = 0
    for fault, kind in API_KIND.items():
        if fault is Fault.OK:
            continue
        index += 1
        if kind is None:  # ECHO_KEY: an answer quoting the Authorization header
            out.append(api_case(f"{fault.value}: the answer quotes the key", PerPrompt({f"question {index}": [fault]}),
                                index, None, 1, "you sent Bearer ***"))
        elif kind.retryable:
            out.append(api_case(f"{fault.value} x2, then recovers", PerPrompt({f"question {index}": [fault, fault]}),
                                index, None, 3))
            index += 1
            out.append(api_case(f"{fault.value}, never recovers", PerPrompt({}, then=fault), index, kind,
                                API_RETRIES + 1))
        else:
            out.append(api_case(f"{fault.value}", PerPrompt({f"question {index}": [fault]}), index, kind, 1))
    out.append(api_down(index + 1))
    out.append(api_no_key(index + 2))
    out.append(api_seeded(index + 3))
    return out


def api_adapter(base_url: str | None, key_env: str = KEY_ENV, concurrency: int = 4) -> OpenAIAdapter:
    """The real adapter, with millisecond backoff so that retries cost no time."""
    built = openai("m", base_url=base_url, api_key_env=key_env, max_retries=API_RETRIES, timeout_s=API_TIMEOUT_S,
                   concurrency=concurrency)
    return OpenAIAdapter(replace(built.options, backoff_base_s=0.002, backoff_cap_s=0.01))


def api_probe(index: int) -> Probe:
    return Probe(sample_id="reliability:api", index=index, text=f"question {index}")


def answer_problems(probe: Probe, answer: Response, kind: FaultKind | None, attempts: int, made: int,
                    text: str | None = None) -> list[str]:
    """What is wrong with `answer` to `probe`, which took `made` requests; `kind` None wants an answer."""
    wrong = []
    if made != attempts:
        wrong.append(f"{made} requests, expected {attempts}")
    if kind is None:
        want = text if text is not None else f"answer to {probe.text}"
        if answer.error is not None or answer.text != want:
            wrong.append(f"answer {answer.text!r} error {short(answer.error)!r}, expected the answer {want!r}")
        return wrong
    head = (f"probe {probe.sample_id}#{probe.index} failed after {attempts} attempt{'s' * (attempts > 1)} "
            f"({kind.value}{'' if kind.retryable else ', not retryable'})")
    if answer.error is None or not answer.error.startswith(head) or answer.text:
        wrong.append(f"error {short(answer.error)!r} text {answer.text!r}, expected an error starting {head!r}")
    return wrong


def api_case(name: str, schedule: Schedule, index: int, kind: FaultKind | None, attempts: int,
             text: str | None = None) -> Outcome:
    """One probe through the adapter against an endpoint serving `schedule`."""
    probe = api_probe(index)
    with capture_logs() as logs, FaultEndpoint(schedule, slow_s=API_SLOW_S) as server:
        [answer] = api_adapter(server.url).generate([probe], PARAMS)
        made = server.attempts(probe.text)
    leak = "the response" if SECRET in answer.model_dump_json() else "a log record" if SECRET in logs.text else None
    want = f"an error naming the probe and {kind.value}" if kind else "the answer"
    return check(name, answer_problems(probe, answer, kind, attempts, made, text), f"{want} after {attempts} request(s)",
                 leak)


def expect_plan(plan: list[Fault]) -> tuple[int, FaultKind | None, Fault]:
    """(requests, final kind or None, last fault) for a probe whose attempts get `plan`'s faults."""
    for n, fault in enumerate(plan, start=1):
        kind = API_KIND[fault]
        if kind is None or not kind.retryable or n == len(plan):
            return n, kind, fault
    raise ValueError("empty plan")


def api_seeded(index0: int, n: int = 40) -> Outcome:
    """n probes at once through `agenerate`, each attempt drawing a random fault: every probe gets
    exactly its own answer or error, with exactly as many requests as its draws call for."""
    schedule = Seeded(seed=11, faults=[f for f in Fault if f is not Fault.OK], ok_rate=0.5)
    probes = [api_probe(index0 + i) for i in range(n)]
    with capture_logs() as logs, FaultEndpoint(schedule, slow_s=API_SLOW_S) as server:
        model = api_adapter(server.url, concurrency=8)

        async def run() -> list[Response]:
            try:
                return await model.agenerate(probes, PARAMS)
            finally:
                await model.aclose()

        answers = asyncio.run(run())
        made = {p.text: server.attempts(p.text) for p in probes}
    wrong = [] if len(answers) == n else [f"{len(answers)} responses for {n} probes"]
    for probe, answer in zip(probes, answers, strict=False):
        attempts, kind, last = expect_plan(schedule.plan(probe.text, API_RETRIES + 1))
        text = "you sent Bearer ***" if last is Fault.ECHO_KEY else None
        wrong += [f"{probe.sample_id}#{probe.index}: {w}" for w in
                  answer_problems(probe, answer, kind, attempts, made[probe.text], text)]
    returned = json.dumps([a.model_dump() for a in answers])
    leak = "a response" if SECRET in returned else "a log record" if SECRET in logs.text else None
    return check(f"seeded mix: {n} probes, random faults per attempt, 8 in flight", wrong[:3] + (
        [f"... {len(wrong) - 3} more"] if len(wrong) > 3 else []), "each probe its own answer or error", leak)


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def api_down(index: int) -> Outcome:
    """Nothing listens on the port: a connection error, retried, then one error naming the probe."""
    probe = api_probe(index)
    with capture_logs() as logs:
        [answer] = api_adapter(f"http://127.0.0.1:{free_port()}/v1").generate([probe], PARAMS)
    wrong = answer_problems(probe, answer, FaultKind.CONNECTION, API_RETRIES + 1, API_RETRIES + 1)
    leak = "the response" if SECRET in answer.model_dump_json() else "a log record" if SECRET in logs.text else None
    return check("endpoint down (connection refused)", wrong, "an error naming the probe and connection", leak)


def api_no_key(index: int) -> Outcome:
    """The key's variable is unset (the hosted API, no base_url): each probe's error says which variable."""
    probes = [api_probe(index), api_probe(index + 1)]
    unset = "MMWATCH_RELIABILITY_UNSET_KEY"
    os.environ.pop(unset, None)
    answers = api_adapter(None, key_env=unset).generate(probes, PARAMS)
    wrong = [f"error {short(a.error)!r}" for p, a in zip(probes, answers, strict=True)
             if not (a.error or "").startswith(f"probe {p.sample_id}#{p.index}: ") or unset not in (a.error or "")]
    return check("API key variable not set", wrong, f"one error per probe naming it and ${unset}")
