"""Alerts raised by real cycles reach real receivers on 127.0.0.1 exactly once: a webhook, Slack's
incoming-webhook format and SMTP with STARTTLS; a receiver that is down on night one gets the
alert on night two; and nothing secret is in what was sent, logged or stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest

from mmwatch.config import load_config
from mmwatch.engine.cycle import CycleReport, run_cycle
from storage.store import DuckDBStore

if TYPE_CHECKING:
    from tests.notifications.conftest import HttpReceiver, SmtpServer

HOOK_SECRET = "hooks-secret-path-0123456789"
CONFIG = """
store: {{path: {tmp}/db.duckdb, artifacts: {tmp}/art, snapshot: {tmp}/snap.duckdb}}
models:
{models}
benchmarks: [{{name: mmwatch-mini, limit: 20, params: {{kinds: [harmful]}}}}]
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
alerts:
  board_url: https://board.example.org/mmwatch
  backoff_s: 0
  send_attempts: 2
  sinks:
    - {{name: webhook, params: {{url_env: TEST_WEBHOOK_URL}}}}
    - {{name: slack, params: {{url_env: TEST_SLACK_URL}}}}
    - {{name: email, params: {{host: 127.0.0.1, port: {smtp_port}, sender: mmwatch@example.org, to: [team@example.org],
        username_env: TEST_SMTP_USER, password_env: TEST_SMTP_PASSWORD, ca_file: "{ca}"}}}}
"""
V1 = "  - {lineage: acme/guard, revision: v1, order: 1, adapter: reference, params: {behaviour: refuse-all}}"
V2 = "  - {lineage: acme/guard, revision: v2, order: 2, adapter: reference, params: {behaviour: comply-all}}"
Night = Callable[..., CycleReport]


@pytest.fixture
def night(tmp_path: Path, http_receiver: HttpReceiver, smtp_server: SmtpServer,
          monkeypatch: pytest.MonkeyPatch) -> Night:
    monkeypatch.setenv("TEST_WEBHOOK_URL", http_receiver.url(f"/hook/{HOOK_SECRET}"))
    monkeypatch.setenv("TEST_SLACK_URL", http_receiver.url(f"/slack/{HOOK_SECRET}"))
    monkeypatch.setenv("TEST_SMTP_USER", smtp_server.user)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", smtp_server.password)

    def run(*models: str) -> CycleReport:
        path = tmp_path / "run.yaml"
        path.write_text(CONFIG.format(tmp=tmp_path, models="\n".join(models), smtp_port=smtp_server.port,
                                      ca=smtp_server.cert))
        config = load_config(path)
        with DuckDBStore(config.store.path, config.store.artifacts) as store:
            return run_cycle(config, store)

    return run


def posted(receiver: HttpReceiver, prefix: str) -> list[Any]:
    return [p.body for p in receiver.posted if p.path.startswith(prefix)]


def test_a_regression_reaches_every_sink_once_and_a_second_night_sends_nothing(
        night: Night, http_receiver: HttpReceiver, smtp_server: SmtpServer, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    run = night
    report = run(V1, V2)
    assert len(report.alerts) == 1 and report.alerts_undelivered == {}
    (hook,) = posted(http_receiver, "/hook/")
    (sent,) = hook["alerts"]
    assert (sent["model_id"], sent["baseline_id"], sent["metric"], sent["rate_old"], sent["rate_new"]) == (
        "acme/guard@v2", "acme/guard@v1", "asr", 0.0, 1.0)
    assert sent["diff_low"] > 0.5 and sent["board_url"].startswith("https://board.example.org/mmwatch/alerts?alert=")
    (slack,) = posted(http_receiver, "/slack/")
    text = json.dumps(slack)
    assert "acme/guard@v2" in text and "attack success rate" in text and "board.example.org" in text
    (mail,) = smtp_server.inbox
    assert mail.tls and mail.authenticated and "acme/guard@v2" in mail.mail["Subject"]
    assert "attack success rate 0% -> 100%" in mail.mail.get_content()

    again = run(V1, V2)
    assert again.alerts == []
    assert len(http_receiver.posted) == 2 and len(smtp_server.inbox) == 1  # nothing new was sent
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT sink_label, status, attempts FROM alert_deliveries ORDER BY sink_label").fetchall()
        stored = str(con.execute("SELECT * FROM alert_deliveries").fetchall())
    assert [(s, n) for _, s, n in rows] == [("sent", 1)] * 3
    assert HOOK_SECRET not in stored + caplog.text and smtp_server.password not in stored + caplog.text


def test_a_receiver_that_is_down_on_night_one_gets_the_alert_on_night_two(
        night: Night, http_receiver: HttpReceiver, smtp_server: SmtpServer, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    run = night
    http_receiver.status = 503
    first = run(V1, V2)
    assert len(first.alerts) == 1 and sorted(first.alerts_undelivered) == ["slack", "webhook"]
    assert all(HOOK_SECRET not in why for why in first.alerts_undelivered.values())
    assert len(smtp_server.inbox) == 1  # the working sink was not held up by the others
    assert len(posted(http_receiver, "/hook/")) == 2  # send_attempts: 2 tries, then kept for the next cycle
    http_receiver.status = 200
    second = run(V1, V2)
    assert second.alerts == [] and second.alerts_undelivered == {}
    assert len(posted(http_receiver, "/hook/")) == 3 and len(posted(http_receiver, "/slack/")) == 3
    assert len(smtp_server.inbox) == 1  # email had it already
    assert HOOK_SECRET not in caplog.text
