"""The webhook sink against a real HTTP server on 127.0.0.1: what it posts, and what it says when
the receiver does not take the alerts (never the secret URL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from mmwatch import plugins
from mmwatch.alerts.sinks import AlertMessage, SinkError
from notifications.webhook import WebhookSink, webhook

if TYPE_CHECKING:  # fixtures' types, for a type checker run from the repository root
    from tests.notifications.conftest import HttpReceiver

TOKEN = "T0KEN-s3cr3t-9f8e7d6c5b4a"
BEARER = "Bearer sk-hook-0123456789abcdef"


def test_posts_every_alert_as_its_message_schema(http_receiver: HttpReceiver, alerts: list[AlertMessage],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMWATCH_HOOK_URL", http_receiver.url(f"/hooks/{TOKEN}"))
    monkeypatch.setenv("MMWATCH_HOOK_AUTH", BEARER)
    sink = plugins.sinks.build("webhook", {"url_env": "MMWATCH_HOOK_URL",
                                           "headers_env": {"Authorization": "MMWATCH_HOOK_AUTH"}}).obj
    sink.send(alerts)

    [posted] = http_receiver.posted
    assert posted.path == f"/hooks/{TOKEN}"
    assert posted.headers["Authorization"] == BEARER
    assert posted.headers["Content-Type"] == "application/json"
    assert [AlertMessage.model_validate(a) for a in posted.body["alerts"]] == alerts  # the schema, lossless
    first = posted.body["alerts"][0]
    assert (first["model_id"], first["metric"], first["rate_old"], first["rate_new"]) == ("acme/guard@v3", "asr",
                                                                                          0.10, 0.45)
    assert (first["diff_low"], first["diff_high"]) == (0.20, 0.50)
    assert (first["baseline_kind"], first["baseline_id"]) == ("predecessor", "acme/guard@v2")
    assert first["board_url"] == "http://board.example/alerts?alert=alert-0001"


def test_a_url_in_the_config_works_too(http_receiver: HttpReceiver, alerts: list[AlertMessage]) -> None:
    webhook(url=http_receiver.url("/in")).send(alerts[:1])
    assert [p.path for p in http_receiver.posted] == ["/in"]


def test_nothing_to_send_posts_nothing(http_receiver: HttpReceiver) -> None:
    webhook(url=http_receiver.url("/in")).send([])
    assert http_receiver.posted == []


def test_an_error_status_names_the_variable_and_the_status_not_the_url(
        http_receiver: HttpReceiver, alerts: list[AlertMessage], monkeypatch: pytest.MonkeyPatch) -> None:
    http_receiver.status = 500  # and its body echoes the path, token included
    monkeypatch.setenv("MMWATCH_HOOK_URL", http_receiver.url(f"/hooks/{TOKEN}"))
    with pytest.raises(SinkError) as raised:
        webhook(url_env="MMWATCH_HOOK_URL").send(alerts)
    message = str(raised.value)
    assert "webhook" in message and "$MMWATCH_HOOK_URL" in message and "HTTP 500" in message
    assert TOKEN not in message and "/hooks/" not in message
    assert raised.value.__context__ is None


def test_a_secret_header_sent_back_in_an_error_is_masked(
        http_receiver: HttpReceiver, alerts: list[AlertMessage], monkeypatch: pytest.MonkeyPatch) -> None:
    http_receiver.status = 403
    monkeypatch.setenv("MMWATCH_HOOK_AUTH", TOKEN)
    sink = webhook(url=http_receiver.url(f"/echo/{TOKEN}"), headers_env={"X-Token": "MMWATCH_HOOK_AUTH"})
    with pytest.raises(SinkError, match="HTTP 403") as raised:
        sink.send(alerts)
    assert TOKEN not in str(raised.value)
    assert f"http://127.0.0.1:{http_receiver.port}" in str(raised.value)  # a config URL: its origin only


def test_a_closed_port_is_a_sink_error_without_the_url(closed_port: int, alerts: list[AlertMessage],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMWATCH_HOOK_URL", f"http://127.0.0.1:{closed_port}/hooks/{TOKEN}")
    with pytest.raises(SinkError, match=r"webhook sink: POST to the URL in \$MMWATCH_HOOK_URL failed: ConnectError"
                       ) as raised:
        webhook(url_env="MMWATCH_HOOK_URL", timeout_s=5).send(alerts)
    assert TOKEN not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__  # httpx's error holds the URL


def test_an_unset_variable_is_named(alerts: list[AlertMessage], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MMWATCH_HOOK_URL", raising=False)
    with pytest.raises(SinkError, match="MMWATCH_HOOK_URL"):
        webhook(url_env="MMWATCH_HOOK_URL").send(alerts)
    monkeypatch.setenv("MMWATCH_HOOK_URL", "http://127.0.0.1:1/")
    with pytest.raises(SinkError, match="MMWATCH_HOOK_AUTH"):
        webhook(url_env="MMWATCH_HOOK_URL", headers_env={"Authorization": "MMWATCH_HOOK_AUTH"}).send(alerts)


def test_a_sink_without_a_url_is_refused_when_built() -> None:
    with pytest.raises(ValueError, match="url_env"):
        webhook()
    with pytest.raises(ValueError, match="timeout_s"):
        webhook(url="http://127.0.0.1/", timeout_s=0)


def test_it_holds_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMWATCH_HOOK_URL", f"http://127.0.0.1/hooks/{TOKEN}")
    sink = webhook(url_env="MMWATCH_HOOK_URL")
    assert isinstance(sink, WebhookSink) and TOKEN not in repr(sink)
