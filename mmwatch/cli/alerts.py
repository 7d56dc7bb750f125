"""`mmwatch alerts list | ack ID | silence --lineage GLOB --until DATE`: the alerts a team works through.

An acknowledged alert is not sent again; a silence keeps the alerts it covers from being sent
while it lasts (they are still raised, as `silenced`, so the board shows them).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from mmwatch.cli import DEFAULT_CONFIG, ConfigOption, _load, app, console, err
from mmwatch.cli.cycle import STORE_BUSY_EXIT
from mmwatch.records import AlertMetric, AlertState

if TYPE_CHECKING:
    from storage.store import DuckDBStore

alerts_app: typer.Typer = typer.Typer(no_args_is_help=True, help="Regression alerts: list, acknowledge, silence.")
app.add_typer(alerts_app, name="alerts")


def _store(config: Path) -> DuckDBStore:
    from storage.store import DuckDBStore, StoreBusy, StoreError

    cfg = _load(config)
    try:
        return DuckDBStore(cfg.store.path, cfg.store.artifacts, wait_s=cfg.store.wait_s)
    except StoreError as exc:
        err.print(f"[bold red]cannot open the store[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=STORE_BUSY_EXIT if isinstance(exc, StoreBusy) else 2) from None


@alerts_app.command("list")
def list_alerts(config: ConfigOption = DEFAULT_CONFIG,
                state: Annotated[list[AlertState] | None, typer.Option(help="only these states (repeatable)")] = None,
                ) -> None:
    """Every alert, oldest first: id, state, model, what got worse, against which baseline."""
    with _store(config) as store:
        found = store.alerts(state or ())
    if not found:
        console.print("no alerts" + (f" in state {', '.join(s.value for s in state)}" if state else ""))
        return
    table = Table(title=f"{len(found)} alert(s)")
    for col in ("id", "state", "raised (UTC)", "model", "metric", "before → after", "baseline", "slice", "note"):
        table.add_column(col, overflow="fold")
    for alert, raised, note in found:
        where = f"{alert.attack} / {alert.defense}" + (f" / {alert.category}" if alert.category else "")
        table.add_row(alert.alert_id[:12], alert.state.value, f"{raised:%Y-%m-%d %H:%M}", escape(alert.model_id),
                      alert.metric.phrase, f"{alert.rate_old:.0%} → {alert.rate_new:.0%}",
                      escape(f"{alert.baseline_kind.value} {alert.baseline_id}"), escape(where), escape(note or ""))
    console.print(table)


@alerts_app.command("ack")
def ack(alert_id: Annotated[str, typer.Argument(help="the alert's id (or a unique prefix), from `alerts list`")],
        config: ConfigOption = DEFAULT_CONFIG,
        note: Annotated[str | None, typer.Option(help="who and why, kept with the alert")] = None) -> None:
    """Acknowledge an alert: it is not sent again, and the board shows it acknowledged."""
    with _store(config) as store:
        done = store.set_alert_state(alert_id, AlertState.ACKNOWLEDGED, note or "acknowledged")
    if not done:
        err.print(f"[red]no single alert with id {escape(alert_id)}[/] (see `mmwatch alerts list`)", highlight=False)
        raise typer.Exit(code=2)
    console.print(f"acknowledged {escape(alert_id)}", highlight=False)


def _until(text: str) -> datetime:
    """An ISO date or time (UTC), or a span from now: 7d, 12h."""
    spans = {"d": "days", "h": "hours"}
    if text[-1:] in spans and text[:-1].isdigit():
        return datetime.now(UTC).replace(tzinfo=None) + timedelta(**{spans[text[-1]]: int(text[:-1])})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is neither an ISO date (2026-12-24) nor a span (7d, 12h)") from None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@alerts_app.command("silence")
def silence(lineage: Annotated[str, typer.Option(help="lineage glob, e.g. acme/* ")],
            until: Annotated[str, typer.Option(help="until an ISO date/time (UTC) or for a span: 7d, 12h")],
            config: ConfigOption = DEFAULT_CONFIG,
            metric: Annotated[AlertMetric | None, typer.Option(help="only this metric")] = None,
            reason: Annotated[str | None, typer.Option(help="why, kept with the silence")] = None) -> None:
    """Stop sending alerts for matching lineages until a time; they are still raised (as silenced)."""
    end = _until(until)
    if end <= datetime.now(UTC).replace(tzinfo=None):
        raise typer.BadParameter(f"--until {until} is in the past")
    with _store(config) as store:
        silence_id = store.add_silence(lineage, end, metric, reason)
    console.print(f"silence {silence_id}: {escape(lineage)}" + (f" ({metric.value})" if metric else "")
                  + f" until {end:%Y-%m-%d %H:%M} UTC", highlight=False)
