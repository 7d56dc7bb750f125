"""Where alerts go: a sink is a small plugin (`@sink("webhook")`) whose factory takes its config
params and returns an `AlertSink`. `send` raises `SinkError` when the receiver did not take the
alerts; the caller retries with backoff and keeps what was not taken for the next cycle, so a sink
never stops a cycle and never loses an alert. Secrets (webhook URLs, SMTP passwords) are read
from the environment by variable name, so none is in the config, the store or a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from mmwatch.records import CANARY_LINEAGE, AlertMetric, AlertRecord, BaselineKind


class SinkError(RuntimeError):
    """A receiver did not take the alerts; the message says which sink and why (never a secret)."""


class AlertMessage(BaseModel):
    """One alert as a sink receives it: what got worse, by how much, against what, and where to look."""

    model_config = ConfigDict(frozen=True)

    alert_id: str
    lineage: str
    model_id: str
    baseline_id: str
    baseline_kind: BaselineKind
    metric: AlertMetric
    metric_title: str
    worse_when_higher: bool
    attack: str
    defense: str
    category: str
    judge: str
    rate_old: float
    rate_new: float
    diff_low: float | None
    diff_high: float | None
    n_pairs: int
    p_adjusted: float
    run_id: str
    board_url: str | None  # the board's page for this alert, when `alerts.board_url` is set
    raised_at: datetime

    @classmethod
    def of(cls, alert: AlertRecord, board_url: str | None, raised_at: datetime) -> AlertMessage:
        link = f"{board_url.rstrip('/')}/alerts?alert={alert.alert_id}" if board_url else None
        return cls(alert_id=alert.alert_id, lineage=alert.lineage, model_id=alert.model_id,
                   baseline_id=alert.baseline_id, baseline_kind=alert.baseline_kind, metric=alert.metric,
                   metric_title=alert.metric.phrase, worse_when_higher=alert.metric.worse_when_higher,
                   attack=alert.attack, defense=alert.defense, category=alert.category, judge=alert.judge,
                   rate_old=alert.rate_old, rate_new=alert.rate_new, diff_low=alert.diff_low,
                   diff_high=alert.diff_high, n_pairs=alert.n_pairs, p_adjusted=alert.p_adjusted,
                   run_id=alert.run_id, board_url=link, raised_at=raised_at)

    @property
    def slice(self) -> str:
        where = f"{self.attack} / {self.defense}"
        return f"{where} / {self.category}" if self.category else where

    @property
    def headline(self) -> str:
        """One line for people: `acme/guard@v3: attack success rate 10% -> 45% (+35 pts, 95% CI +20..+50) …`."""
        interval = ""
        if self.diff_low is not None and self.diff_high is not None:
            interval = f", 95% CI {100 * self.diff_low:+.0f}..{100 * self.diff_high:+.0f}"
        change = 100 * (self.rate_new - self.rate_old)
        if self.lineage.startswith(CANARY_LINEAGE):  # a night's re-test of an API model against earlier nights
            model = self.lineage.removeprefix(CANARY_LINEAGE)
            night, before = self.model_id.rsplit("@", 1)[-1], self.baseline_id.rsplit("@", 1)[-1]
            return (f"the model behind {model} changed on {night}: {self.metric_title} {self.rate_old:.0%} on "
                    f"{before} -> {self.rate_new:.0%} ({change:+.0f} pts{interval}) on {self.slice}, "
                    f"{self.n_pairs} paired items, judge {self.judge}")
        return (f"{self.model_id}: {self.metric_title} {self.rate_old:.0%} -> {self.rate_new:.0%} "
                f"({change:+.0f} pts{interval}) vs {self.baseline_kind.value} {self.baseline_id} on {self.slice}, "
                f"{self.n_pairs} paired items, judge {self.judge}")


class AlertSink(Protocol):
    """Delivers alerts; raises SinkError if the receiver did not take them all."""

    def send(self, alerts: Sequence[AlertMessage]) -> None: ...
