"""Fault injection: the real `openai` adapter against an endpoint that fails on purpose.

Each fault is served a few times and then a good answer, or for ever: transient kinds must be
retried until the server recovers, the others reported at once, and every error must name its
probe, its attempts and its kind, with the key scrubbed from answers, errors and logs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from fault_endpoint import Fault, FaultEndpoint, PerPrompt, Seeded, fault_endpoint  # noqa: F401 - fixture

from adapters.openai_api import OpenAIAdapter, openai
from adapters.openai_faults import FaultKind, classify_error, failure_message, status_kind
from mmwatch.types import GenerationParams, Probe, Response

SECRET = "sk-fault-SECRET-0123456789"
KEY_ENV = "MMWATCH_TEST_FAULTS_KEY"
PARAMS = GenerationParams(max_new_tokens=8)
TIMEOUT_S = 1.0  # the client's (a good answer takes milliseconds); SLOW answers after SLOW_S
SLOW_S = 2.0

KIND = {  # what the adapter must call each injected fault; None: it is an answer
    Fault.OK: None,
    Fault.ECHO_KEY: None,
    Fault.RATE_LIMIT: FaultKind.RATE_LIMIT,
    Fault.HTTP_500: FaultKind.SERVER_ERROR,
    Fault.HTTP_502: FaultKind.SERVER_ERROR,
    Fault.HTTP_503: FaultKind.SERVER_ERROR,
    Fault.ECHO_KEY_ERROR: FaultKind.SERVER_ERROR,
    Fault.TRUNCATED_JSON: FaultKind.BAD_BODY,
    Fault.NOT_JSON: FaultKind.BAD_BODY,
    Fault.NOT_COMPLETION: FaultKind.BAD_BODY,
    Fault.SLOW: FaultKind.TIMEOUT,
    Fault.DROP: FaultKind.CONNECTION,
    Fault.UNAUTHORIZED: FaultKind.AUTH,
    Fault.BAD_REQUEST: FaultKind.CLIENT_ERROR,
    Fault.NO_CHOICES: FaultKind.NO_ANSWER,
    Fault.NULL_CONTENT: FaultKind.NO_ANSWER,
}
RETRYABLE = [f for f, kind in KIND.items() if kind is not None and kind.retryable]
FINAL = [f for f, kind in KIND.items() if kind is not None and not kind.retryable]
SAYS = {  # what the error text must say in plain words, beyond the kind
    Fault.TRUNCATED_JSON: "endpoint sent invalid JSON (truncated body",
    Fault.NOT_JSON: "endpoint sent a non-JSON body: '<html>",
    Fault.NOT_COMPLETION: "endpoint sent JSON that is not a chat completion",
    Fault.HTTP_502: "HTTP 502, with a non-JSON body '<html><head><title>502 Bad Gateway",
    Fault.RATE_LIMIT: "HTTP 429",
    Fault.SLOW: "no answer within the timeout",
    Fault.DROP: "peer closed connection",
    Fault.UNAUTHORIZED: f"authentication failed (HTTP 401): check the key in ${KEY_ENV}",
    Fault.BAD_REQUEST: "HTTP 400",
    Fault.NO_CHOICES: "no choices",
    Fault.NULL_CONTENT: "no content",
}


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The key in the environment, and every log record (ours, the SDK's, httpx's) captured."""
    monkeypatch.setenv(KEY_ENV, SECRET)
    caplog.set_level(logging.DEBUG)
    for name in ("openai", "httpx2", "httpcore2", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield caplog
    for name in ("openai", "httpx2", "httpcore2", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def adapter(server: FaultEndpoint, max_retries: int = 2, concurrency: int = 4) -> OpenAIAdapter:
    """The real adapter with millisecond backoff, so retry tests take no time."""
    built = openai("m", base_url=server.url, api_key_env=KEY_ENV, max_retries=max_retries, timeout_s=TIMEOUT_S,
                   concurrency=concurrency)
    return OpenAIAdapter(replace(built.options, backoff_base_s=0.002, backoff_cap_s=0.01))


def probe(text: str, index: int = 0) -> Probe:
    return Probe(sample_id="faults:1", index=index, text=text)


def assert_no_key(answers: list[Response], caplog: pytest.LogCaptureFixture) -> None:
    returned = json.dumps([a.model_dump() for a in answers])
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    for place in (returned, logged, caplog.text):
        assert SECRET not in place


@pytest.mark.parametrize("fault", RETRYABLE, ids=lambda f: f.value)
def test_transient_faults_are_retried_until_the_server_recovers(
    fault: Fault, fault_endpoint: Callable[..., FaultEndpoint], logs: pytest.LogCaptureFixture
) -> None:
    server = fault_endpoint(PerPrompt({"q": [fault, fault]}), slow_s=SLOW_S)
    [answer] = adapter(server).generate([probe("q")], PARAMS)
    assert answer.error is None and answer.text == "answer to q"
    assert server.faults("q") == [fault, fault, Fault.OK]
    kind = KIND[fault]
    assert kind is not None
    retries = [r.getMessage() for r in logs.records if "; retry " in r.getMessage()]
    assert len(retries) == 2 and all(f"probe faults:1#0: {kind.value}: " in line for line in retries)
    assert_no_key([answer], logs)


@pytest.mark.parametrize("fault", RETRYABLE, ids=lambda f: f.value)
def test_transient_faults_that_persist_end_as_one_error_naming_probe_kind_and_attempts(
    fault: Fault, fault_endpoint: Callable[..., FaultEndpoint], logs: pytest.LogCaptureFixture
) -> None:
    server = fault_endpoint(PerPrompt({}, then=fault), slow_s=SLOW_S)
    [answer] = adapter(server).generate([probe("q", index=3)], PARAMS)
    kind = KIND[fault]
    assert kind is not None and answer.error is not None and answer.text == ""
    assert answer.error.startswith(f"probe faults:1#3 failed after 3 attempts ({kind.value}): ")
    assert SAYS.get(fault, "") in answer.error
    assert server.attempts("q") == 3
    assert_no_key([answer], logs)


@pytest.mark.parametrize("fault", FINAL, ids=lambda f: f.value)
def test_final_faults_are_not_retried(
    fault: Fault, fault_endpoint: Callable[..., FaultEndpoint], logs: pytest.LogCaptureFixture
) -> None:
    server = fault_endpoint(PerPrompt({"q": [fault]}))
    [answer] = adapter(server, max_retries=5).generate([probe("q", index=1)], PARAMS)
    kind = KIND[fault]
    assert kind is not None and answer.error is not None
    assert answer.error.startswith(f"probe faults:1#1 failed after 1 attempt ({kind.value}, not retryable): ")
    assert SAYS[fault] in answer.error
    assert server.attempts("q") == 1
    assert_no_key([answer], logs)


def test_auth_error_quoting_the_key_says_so_without_it(
    fault_endpoint: Callable[..., FaultEndpoint], logs: pytest.LogCaptureFixture
) -> None:
    server = fault_endpoint([Fault.UNAUTHORIZED])
    [answer] = adapter(server).generate([probe("q")], PARAMS)
    assert server.requests[0].key == SECRET  # the endpoint did get, and quote, the key
    assert "Incorrect API key provided: ***" in (answer.error or "")
    assert_no_key([answer], logs)


def test_key_echoed_in_answers_and_retried_errors_is_scrubbed(
    fault_endpoint: Callable[..., FaultEndpoint], logs: pytest.LogCaptureFixture
) -> None:
    server = fault_endpoint(PerPrompt({"echo": [Fault.ECHO_KEY], "err": [Fault.ECHO_KEY_ERROR] * 3}))
    answers = adapter(server).generate([probe("echo"), probe("err", index=1)], PARAMS)
    assert answers[0].text == "you sent Bearer ***"
    assert "upstream rejected credentials Bearer ***" in (answers[1].error or "")
    assert sum("rejected credentials Bearer ***" in r.getMessage() for r in logs.records) >= 3  # 2 retries + final
    assert_no_key(answers, logs)


def test_missing_key_errors_name_each_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    answers = openai("m", api_key_env=KEY_ENV).generate([probe("a"), probe("b", index=1)], PARAMS)
    assert [(a.error or "").split(": ")[0] for a in answers] == ["probe faults:1#0", "probe faults:1#1"]


@pytest.mark.parametrize("path", ["generate", "agenerate"])
def test_seeded_random_faults_over_50_probes_concurrently(
    path: str, fault_endpoint: Callable[..., FaultEndpoint], logs: pytest.LogCaptureFixture
) -> None:
    """Every probe ends answered or as an error naming itself, as its own draws say, in order."""
    schedule = Seeded(seed=5, faults=[f for f in Fault if f is not Fault.OK], ok_rate=0.45)
    server = fault_endpoint(schedule, slow_s=SLOW_S)
    max_retries = 2
    model = adapter(server, max_retries=max_retries, concurrency=8)
    probes = [probe(f"question {i}", index=i) for i in range(50)]
    if path == "generate":
        answers = model.generate(probes, PARAMS)
    else:
        async def run() -> list[Response]:
            try:
                return await model.agenerate(probes, PARAMS)
            finally:
                await model.aclose()

        answers = asyncio.run(run())

    assert len(answers) == len(probes)
    outcomes: set[str] = set()
    for p, answer in zip(probes, answers, strict=True):
        expected = expect(schedule.plan(p.text, max_retries + 1))
        assert server.attempts(p.text) == expected.attempts, p.text  # none lost, none asked twice over
        if expected.kind is None:
            assert answer.error is None, answer.error
            assert answer.text in (f"answer to {p.text}", "you sent Bearer ***")
            outcomes.add("answered" if expected.attempts == 1 else "answered after retries")
        else:
            assert answer.error is not None and answer.text == ""
            n = expected.attempts
            assert answer.error.startswith(f"probe faults:1#{p.index} failed after {n} attempt{'s' * (n > 1)} "
                                           f"({expected.kind.value}")
            outcomes.add(expected.kind.value)
    assert len(outcomes) >= 8  # seed 5: answers at once and after retries, 7 kinds of error
    assert_no_key(answers, logs)


class Expected:
    def __init__(self, attempts: int, kind: FaultKind | None) -> None:
        self.attempts, self.kind = attempts, kind


def expect(plan: list[Fault]) -> Expected:
    """What the adapter must make of a probe whose attempts get `plan`'s faults."""
    for n, fault in enumerate(plan, start=1):
        kind = KIND[fault]
        if kind is None or not kind.retryable or n == len(plan):
            return Expected(n, kind)
    raise AssertionError("empty plan")


def test_models_listing_is_configurable(fault_endpoint: Callable[..., FaultEndpoint],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    server = fault_endpoint(models=["b-model", {"id": "a-model", "created": 5}])
    listed = openai("m", base_url=server.url, api_key_env=KEY_ENV).list_models()
    assert listed == ["a-model", "b-model"]
    server.models = ["leak-{key}"]
    assert openai("m", base_url=server.url, api_key_env=KEY_ENV).list_models() == [f"leak-{SECRET}"]  # raw, as served
    assert [r.path for r in server.requests] == ["/v1/models", "/v1/models"]


def test_classification() -> None:
    assert [k for k in FaultKind if k.retryable] == [
        FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.BAD_BODY, FaultKind.TIMEOUT, FaultKind.CONNECTION]
    statuses = {s: status_kind(s) for s in (None, 400, 401, 403, 404, 408, 409, 422, 429, 500, 502, 503)}
    assert statuses == {None: FaultKind.CONNECTION, 400: FaultKind.CLIENT_ERROR, 401: FaultKind.AUTH,
                        403: FaultKind.AUTH, 404: FaultKind.CLIENT_ERROR, 408: FaultKind.TIMEOUT,
                        409: FaultKind.SERVER_ERROR, 422: FaultKind.CLIENT_ERROR, 429: FaultKind.RATE_LIMIT,
                        500: FaultKind.SERVER_ERROR, 502: FaultKind.SERVER_ERROR, 503: FaultKind.SERVER_ERROR}

    def decode(text: str) -> json.JSONDecodeError:
        with pytest.raises(json.JSONDecodeError) as caught:
            json.loads(text)
        return caught.value

    truncated = classify_error(decode('{"choices": [{"message": {"content": "hel'), None, "K")
    malformed = classify_error(decode('{"choices": nope}'), None, "K")
    empty = classify_error(decode(""), None, "K")
    assert truncated.kind is malformed.kind is empty.kind is FaultKind.BAD_BODY
    assert "(truncated body" in truncated.detail and "(malformed body" in malformed.detail
    assert "(empty body)" in empty.detail
    bug = classify_error(KeyError("x"), None, "K")
    assert bug.kind is FaultKind.UNEXPECTED
    assert failure_message("probe s#0", bug, 1) == "probe s#0 failed after 1 attempt (unexpected, not retryable): KeyError: 'x'"


def test_endpoint_records_requests_and_binds_loopback(fault_endpoint: Callable[..., FaultEndpoint],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    server = fault_endpoint([Fault.HTTP_503])
    assert server.url.startswith("http://127.0.0.1:")
    answers = adapter(server, max_retries=1).generate([probe("q")], PARAMS)
    assert answers[0].text == "answer to q"
    first, second = server.chat_requests()
    assert (first.fault, first.attempt, second.fault, second.attempt) == (Fault.HTTP_503, 1, Fault.OK, 2)
    assert first.body["model"] == "m" and first.prompt == "q" and first.authorization == "Bearer EMPTY"
