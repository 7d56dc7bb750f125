"""The Slack sink against a real HTTP server standing in for an incoming webhook: the blocks say
what got worse and link to the board, data strings cannot become mentions or links, and a failure
never shows the webhook URL (it is the credential)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from mmwatch import plugins
from mmwatch.alerts.sinks import AlertMessage, SinkError
from notifications.slack import MAX_ALERTS, escape, messages, slack

if TYPE_CHECKING:
    from tests.notifications.conftest import HttpReceiver, MakeAlert

HOOK_PATH = "/services/T000AAAA/B000BBBB/XXXXslackTOKENxxxxxxxxx"


def _mrkdwn(body: dict[str, Any]) -> list[str]:
    """Every string Slack reads as mrkdwn: the fallback text and each section's text."""
    return [body["text"], *(b["text"]["text"] for b in body["blocks"] if b["type"] == "section")]


@pytest.fixture
def hook(http_receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch) -> HttpReceiver:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", http_receiver.url(HOOK_PATH))
    return http_receiver


def test_the_message_says_what_got_worse_by_how_much_against_what(hook: HttpReceiver,
                                                                    alerts: list[AlertMessage]) -> None:
    plugins.sinks.build("slack", {}).obj.send(alerts)  # url_env defaults to SLACK_WEBHOOK_URL

    [posted] = hook.posted
    assert posted.path == HOOK_PATH
    header, asr, utility = posted.body["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": "Safety regressions: acme/guard@v3",
                                                 "emoji": False}}
    text = asr["text"]["text"]
    assert asr["text"]["type"] == "mrkdwn"
    assert "*attack success rate* got worse on *acme/guard@v3*: 10% → 45% (+35 pts, 95% CI +20 to +50 pts)" in text
    assert "Baseline: predecessor acme/guard@v2" in text
    assert "Slice: figstep / none / Fraud · judge refusal-keywords" in text
    assert "n = 120 paired items · adjusted p = 0.0012" in text
    assert asr["accessory"]["type"] == "button"
    assert asr["accessory"]["url"] == "http://board.example/alerts?alert=alert-0001"

    text = utility["text"]["text"]
    assert "*utility* got worse on *acme/guard@v3*: 80% → 62% (-18 pts, 95% CI -30 to -6 pts)" in text
    assert "Baseline: pinned acme/guard@v1" in text and "Slice: none / none ·" in text  # pooled: no category
    assert "accessory" not in utility  # no board_url, no button
    assert posted.body["text"] == "\n".join(escape(a.headline) for a in alerts)  # what notifications show
    assert posted.body["text"].startswith("acme/guard@v3: attack success rate 10% -&gt; 45%")  # Slack shows "->"


def test_data_strings_cannot_mention_or_link(hook: HttpReceiver, hostile_alert: AlertMessage) -> None:
    slack().send([hostile_alert])

    [posted] = hook.posted
    for text in _mrkdwn(posted.body):
        assert "<" not in text and ">" not in text, text  # no <@channel>, <!here>, <http://x|click>
    section = posted.body["blocks"][1]["text"]["text"]
    assert "evil/&lt;@channel&gt;&lt;!here&gt;-&lt;http://x|click&gt;&amp;co@v1" in section
    assert "&lt;http://y|here&gt;" in section and "&lt;!everyone&gt;" in section and "a&amp;b&lt;c&gt;" in section
    assert posted.body["blocks"][1]["text"]["verbatim"] is True  # no auto-linked names either
    assert posted.body["blocks"][0]["text"]["type"] == "plain_text"  # the header's model id is shown, not parsed


def test_escape_turns_each_control_character_into_its_entity() -> None:
    assert escape("a & <b> &amp;") == "a &amp; &lt;b&gt; &amp;amp;"


def test_one_message_per_model_and_never_more_than_slack_takes(make_alert: MakeAlert) -> None:
    many = [make_alert(alert_id=f"a{i}", category=f"c{i}") for i in range(MAX_ALERTS + 5)]
    other = make_alert(alert_id="b1", model_id="other/model@v9")
    bodies = messages([*many[:3], other, *many[3:]])
    headers = [b["blocks"][0]["text"]["text"] for b in bodies]
    assert headers == ["Safety regressions: acme/guard@v3", "Safety regressions: acme/guard@v3",
                       "Safety regression: other/model@v9"]
    assert [len(b["blocks"]) - 1 for b in bodies] == [MAX_ALERTS, 5, 1]
    assert all(len(b["blocks"]) <= 50 for b in bodies)


def test_a_huge_model_id_is_clipped_to_slacks_limits(make_alert: MakeAlert) -> None:
    [body] = messages([make_alert(model_id="m" * 5000)])
    assert len(body["blocks"][0]["text"]["text"]) <= 150
    assert len(body["blocks"][1]["text"]["text"]) <= 3000


def test_an_error_answer_names_the_variable_not_the_url(hook: HttpReceiver, alerts: list[AlertMessage]) -> None:
    hook.status = 500  # its body echoes the path: the token
    with pytest.raises(SinkError, match=r"slack sink: the URL in \$SLACK_WEBHOOK_URL answered HTTP 500") as raised:
        slack().send(alerts)
    assert "slackTOKEN" not in str(raised.value) and "T000AAAA" not in str(raised.value)


def test_a_closed_port_names_the_variable_not_the_url(closed_port: int, alerts: list[AlertMessage],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMWATCH_SLACK", f"http://127.0.0.1:{closed_port}{HOOK_PATH}")
    with pytest.raises(SinkError, match=r"\$MMWATCH_SLACK") as raised:
        slack(url_env="MMWATCH_SLACK", timeout_s=5).send(alerts)
    assert "slackTOKEN" not in str(raised.value)


def test_an_unset_webhook_variable_is_named(alerts: list[AlertMessage], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    with pytest.raises(SinkError, match="SLACK_WEBHOOK_URL"):
        slack().send(alerts)
