"""The prefect-event sink: with a real `prefect server` the events can be read back through its API
exactly as automations will see them; with no API, or one that is down, `send` raises instead of
dropping the alerts as `emit_event` would."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect_servers import prefect_server

from mmwatch.alerts.sinks import AlertMessage, SinkError
from notifications.prefect_event import event_of, prefect_event


@pytest.fixture
def no_prefect_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        yield


def test_with_no_prefect_api_the_alerts_are_refused_not_dropped(no_prefect_api: None,
                                                                alerts: list[AlertMessage]) -> None:
    with pytest.raises(SinkError, match="no Prefect API is configured"):
        prefect_event().send(alerts)


def test_a_prefect_api_that_is_down_is_a_sink_error(closed_port: int, alerts: list[AlertMessage]) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{closed_port}/api"}):
        with pytest.raises(SinkError, match="did not take the events: ConnectionRefusedError"):
            prefect_event(timeout_s=20).send(alerts)


def test_from_async_code_it_still_uses_the_callers_settings(closed_port: int, alerts: list[AlertMessage]) -> None:
    """Inside an event loop `send` runs in a worker thread, which does not see the caller's context."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def from_a_loop() -> None:
        prefect_event(timeout_s=20).send(alerts)

    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{closed_port}/api"}):
        with pytest.raises(SinkError, match="ConnectionRefusedError") as raised:
            asyncio.run(from_a_loop())
    assert str(closed_port) in str(raised.value)  # that API, not another the thread found


def test_the_event_names_the_metric_the_lineage_and_the_model(hostile_alert: AlertMessage) -> None:
    event = event_of(hostile_alert)
    assert event.event == "mmwatch.regression.asr"
    assert dict(event.resource) == {"prefect.resource.id": "mmwatch.lineage.evil/<@channel>",
                                    "prefect.resource.name": "evil/<@channel>"}
    assert [dict(r) for r in event.related] == [{"prefect.resource.id": f"mmwatch.model.{hostile_alert.model_id}",
                                                 "prefect.resource.role": "model"}]
    assert AlertMessage.model_validate(event.payload) == hostile_alert
    assert event.id == event_of(hostile_alert).id  # one alert, one event id: a retry is not a second event


async def _read_back(resource_prefix: str, expected: int, timeout_s: float = 60) -> list[Any]:
    """The mmwatch events about `resource_prefix`, once the server has persisted `expected` of them."""
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    query = EventFilter(event=EventNameFilter(prefix=["mmwatch.regression."]),
                        resource=EventResourceFilter(id_prefix=[resource_prefix]))
    deadline = time.monotonic() + timeout_s
    async with get_client() as client:
        while True:
            page = await client.read_events(filter=query, limit=50)
            if len(page.events) >= expected or time.monotonic() > deadline:
                return list(page.events)
            await asyncio.sleep(0.5)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_events_reach_a_real_prefect_server(tmp_path: Path, alerts: list[AlertMessage]) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with prefect_server(tmp_path) as env, temporary_settings(updates={PREFECT_API_URL: env["PREFECT_API_URL"]}):
        sink = prefect_event()
        sink.send(alerts)
        sink.send(alerts[:1])  # the caller's retry after a send it thought failed
        events = asyncio.run(_read_back("mmwatch.lineage.acme/guard", expected=len(alerts)))
        time.sleep(2)  # a duplicate would land in the same flush: give it the chance to
        events = asyncio.run(_read_back("mmwatch.lineage.acme/guard", expected=len(alerts) + 1, timeout_s=5))

    by_name = {event.event: event for event in events}
    assert len(events) == len(alerts) and set(by_name) == {"mmwatch.regression.asr", "mmwatch.regression.utility"}
    for alert in alerts:
        event = by_name[f"mmwatch.regression.{alert.metric.value}"]
        assert event.resource.id == "mmwatch.lineage.acme/guard" and event.resource.name == "acme/guard"
        [model] = [r for r in event.related if r.role == "model"]
        assert model.id == "mmwatch.model.acme/guard@v3"
        assert AlertMessage.model_validate(event.payload) == alert
        assert event.occurred == alert.raised_at
