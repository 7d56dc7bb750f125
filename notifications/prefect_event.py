"""`prefect-event`: one Prefect event per alert, so that Prefect automations (pause a deployment,
page someone, open a ticket) can act on a regression. The event is `mmwatch.regression.<metric>`
about the resource `mmwatch.lineage.<lineage>`, related to `mmwatch.model.<model id>` in the role
`model`, with the whole AlertMessage as its payload.

Not through `prefect.events.emit_event`: it hands the event to a background worker that only logs
a failed delivery, and with no API configured it sends to a throwaway ephemeral server, so an
alert could vanish without an error. This sink connects to the configured API itself and waits
for the server to confirm each event (Prefect's own websocket checkpoint), so `send` returns only
once the events are taken and raises SinkError otherwise. Event ids are derived from the alert id
and the server drops a repeated id, so the caller's retry after a half-done send emits no twins.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING
from uuid import UUID, uuid5

from mmwatch.aio import run_sync
from mmwatch.alerts.sinks import AlertMessage, SinkError
from mmwatch.plugins import sink

if TYPE_CHECKING:
    from prefect.events import Event
    from prefect.events.clients import EventsClient

NAME = "prefect-event"
EVENT_IDS = UUID("6d6d7761-7463-4865-8000-616c65727473")  # the namespace of uuid5(alert_id) event ids
MASK = "***"


@sink(NAME, version=1)
def prefect_event(timeout_s: float = 30.0) -> PrefectEventSink:
    """Emit one Prefect event per alert to the Prefect API this process is configured for."""
    if timeout_s <= 0:
        raise ValueError(f"{NAME} sink: timeout_s must be > 0, got {timeout_s}")
    return PrefectEventSink(timeout_s)


@dataclass(frozen=True)
class PrefectEventSink:
    """Uses the process's Prefect settings (PREFECT_API_URL, and the key or auth string if any)."""

    timeout_s: float = 30.0

    def send(self, alerts: Sequence[AlertMessage]) -> None:
        if not alerts:
            return
        from prefect.settings import get_current_settings

        settings = get_current_settings()
        if not settings.api.url:
            raise SinkError(f"{NAME} sink: no Prefect API is configured (PREFECT_API_URL is not set), "
                            "so the events would be lost")
        try:
            events = [event_of(alert) for alert in alerts]
        except ValueError as exc:  # pydantic's ValidationError: a field Prefect does not accept
            raise SinkError(f"{NAME} sink: an alert is no valid Prefect event: {exc}") from None
        limit = settings.server.events.maximum_size_bytes
        too_large = [e.event for e in events if e.size_bytes > limit]
        if too_large:
            raise SinkError(f"{NAME} sink: event {too_large[0]} is over Prefect's {limit} bytes")
        url = settings.api.url
        secrets = [s for s in (url, "ws" + url.removeprefix("http"), _secret_value(settings.api.key),
                               _secret_value(settings.api.auth_string)) if s]
        try:
            from prefect.events import get_events_client

            # made here, where the caller's Prefect settings are: run_sync may run it in another thread
            client = get_events_client(reconnection_attempts=0, checkpoint_every=1)
            run_sync(asyncio.wait_for(_emit(client, events), self.timeout_s))
        except Exception as exc:  # noqa: BLE001 - websockets, OS and HTTP errors alike mean "not taken"
            detail = _scrub(str(exc), secrets) or "no detail"
            raise SinkError(f"{NAME} sink: the Prefect API at PREFECT_API_URL did not take the events: "
                            f"{type(exc).__name__}: {detail}") from None


def event_of(alert: AlertMessage) -> Event:
    """The alert as a Prefect event: what got worse is the event, the lineage its resource."""
    from prefect.events import Event

    occurred = alert.raised_at if alert.raised_at.tzinfo else alert.raised_at.replace(tzinfo=UTC)  # DuckDB's are naive
    return Event.model_validate({
        "event": f"mmwatch.regression.{alert.metric.value}",
        "resource": {"prefect.resource.id": f"mmwatch.lineage.{alert.lineage}", "prefect.resource.name": alert.lineage},
        "related": [{"prefect.resource.id": f"mmwatch.model.{alert.model_id}", "prefect.resource.role": "model"}],
        "payload": alert.model_dump(mode="json"),
        "occurred": occurred,
        "id": uuid5(EVENT_IDS, alert.alert_id),
    })


async def _emit(client: EventsClient, events: Sequence[Event]) -> None:
    """Send each event and wait for the server's pong after it (checkpoint_every=1): taken, or raised."""
    async with client:
        for event in events:
            await client.emit(event)


def _secret_value(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if callable(getter) else None


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return " ".join(text.split())
