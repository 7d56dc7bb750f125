"""`webhook`: the alerts as JSON to any URL, for receivers mmwatch has no sink for (an incident
tool, a chat bridge, a script). The body is `{"alerts": [AlertMessage, ...]}`, each alert exactly
as `AlertMessage.model_dump(mode="json")` gives it, so a receiver can rely on that schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mmwatch.alerts.sinks import AlertMessage
from mmwatch.plugins import sink
from notifications._http import check_url_source, env_headers, post_json, resolve

NAME = "webhook"


@sink(NAME, version=1)
def webhook(
    url_env: str | None = None,
    url: str | None = None,
    headers_env: dict[str, str] | None = None,
    timeout_s: float = 10.0,
) -> WebhookSink:
    """POST alerts as JSON to a URL (from the env variable `url_env`, or `url`); header values from env."""
    check_url_source(NAME, url, url_env)
    if timeout_s <= 0:
        raise ValueError(f"{NAME} sink: timeout_s must be > 0, got {timeout_s}")
    return WebhookSink(url_env=url_env, url=url, headers_env=dict(headers_env or {}), timeout_s=timeout_s)


@dataclass(frozen=True)
class WebhookSink:
    """Holds variable names, not secrets: the URL and header values are read at each send."""

    url_env: str | None
    url: str | None
    headers_env: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = 10.0

    def send(self, alerts: Sequence[AlertMessage]) -> None:
        if not alerts:
            return
        headers = env_headers(NAME, self.headers_env)
        target = resolve(NAME, self.url, self.url_env, headers)
        body = {"alerts": [alert.model_dump(mode="json") for alert in alerts]}
        post_json(NAME, target, body, headers, self.timeout_s)
