"""`slack`: alerts to a Slack channel through an incoming webhook, as Block Kit messages that say
what got worse, by how much, against what, and link to the board.

The webhook URL is the credential, so it comes from an environment variable by default. Every data
string (a model id comes from whoever published the model) is escaped for mrkdwn, so `<!channel>`
or `<http://x|click>` in a model id is shown, never a mention or a link. One message per model
(its header names it), at most MAX_ALERTS alerts each: Slack takes 50 blocks a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mmwatch.alerts.sinks import AlertMessage
from mmwatch.plugins import sink
from notifications._http import check_url_source, post_json, resolve

NAME = "slack"
MAX_ALERTS = 40  # sections per message, below Slack's 50 blocks with the header
HEADER_CHARS = 150  # Slack's limit for a header's text
FIELD_CHARS = 200  # of one data string: a hostile model id cannot fill a message
SECTION_CHARS = 3000  # Slack's limit for a section's text

Block = dict[str, Any]


@sink(NAME, version=1)
def slack(url_env: str = "SLACK_WEBHOOK_URL", url: str | None = None, timeout_s: float = 10.0) -> SlackSink:
    """Post alerts to Slack: an incoming-webhook URL from the env variable `url_env` (or `url`)."""
    check_url_source(NAME, url, url_env)
    if timeout_s <= 0:
        raise ValueError(f"{NAME} sink: timeout_s must be > 0, got {timeout_s}")
    return SlackSink(url_env=url_env, url=url, timeout_s=timeout_s)


@dataclass(frozen=True)
class SlackSink:
    """Holds the variable's name, not the URL: it is read at each send."""

    url_env: str | None
    url: str | None
    timeout_s: float = 10.0

    def send(self, alerts: Sequence[AlertMessage]) -> None:
        """One POST per message; if a later one fails, the caller's retry repeats the earlier ones."""
        if not alerts:
            return
        target = resolve(NAME, self.url, self.url_env)
        for body in messages(alerts):
            post_json(NAME, target, body, {}, self.timeout_s)


def messages(alerts: Sequence[AlertMessage]) -> list[dict[str, Any]]:
    """The Slack messages for `alerts`: grouped by model in the order they came."""
    by_model: dict[str, list[AlertMessage]] = {}
    for alert in alerts:
        by_model.setdefault(alert.model_id, []).append(alert)
    return [message(model, group[start:start + MAX_ALERTS])
            for model, group in by_model.items() for start in range(0, len(group), MAX_ALERTS)]


def message(model_id: str, alerts: Sequence[AlertMessage]) -> dict[str, Any]:
    """A header naming the model, a section per alert, and the headlines for notifications."""
    title = _clip(f"Safety regression{'s' if len(alerts) > 1 else ''}: {model_id}", HEADER_CHARS)
    header: Block = {"type": "header", "text": {"type": "plain_text", "text": title, "emoji": False}}
    return {"text": "\n".join(escape(alert.headline) for alert in alerts),
            "blocks": [header, *(section(alert) for alert in alerts)]}


def section(alert: AlertMessage) -> Block:
    """What got worse, old -> new with the change and its interval, the baseline, where, and how sure."""
    change = f"{100 * (alert.rate_new - alert.rate_old):+.0f} pts"
    if alert.diff_low is not None and alert.diff_high is not None:
        change += f", 95% CI {100 * alert.diff_low:+.0f} to {100 * alert.diff_high:+.0f} pts"
    lines = [
        f"*{_field(alert.metric_title)}* got worse on *{_field(alert.model_id)}*: "
        f"{alert.rate_old:.0%} → {alert.rate_new:.0%} ({change})",
        f"Baseline: {_field(alert.baseline_kind.value)} {_field(alert.baseline_id)}",
        f"Slice: {_field(alert.slice)} · judge {_field(alert.judge)}",
        f"n = {alert.n_pairs} paired items · adjusted p = {alert.p_adjusted:.2g}",
    ]
    block: Block = {"type": "section",
                    "text": {"type": "mrkdwn", "text": _clip("\n".join(lines), SECTION_CHARS), "verbatim": True}}
    if alert.board_url:
        block["accessory"] = {"type": "button", "text": {"type": "plain_text", "text": "Open on the board"},
                              "url": alert.board_url, "action_id": f"open-{alert.alert_id}"[:255]}
    return block


def escape(text: str) -> str:
    """Slack's three control characters as entities: no data string can open a link or a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _field(text: str) -> str:
    return escape(_clip(text, FIELD_CHARS))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
