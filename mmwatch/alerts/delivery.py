"""Sending alerts: every configured sink gets every alert once, however many nights that takes.

New alerts are queued for each sink (an outbox row per alert and sink); then each sink is given
what it has pending, tried `send_attempts` times with doubling waits. A sink that stays down keeps
its alerts pending for the next cycle and costs the cycle nothing else; its error is logged and
stored with every secret masked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from mmwatch import plugins
from mmwatch.alerts.sinks import AlertMessage, AlertSink
from mmwatch.config import RunConfig
from mmwatch.records import AlertRecord
from mmwatch.registry import Plugin
from mmwatch.secrets import Secrets, run_secrets
from mmwatch.store import Store
from mmwatch.types import stable_hash

log = logging.getLogger(__name__)


@dataclass
class Delivered:
    sent: dict[str, int] = field(default_factory=dict)  # sink label -> alerts it took
    pending: dict[str, str] = field(default_factory=dict)  # sink label -> why it still has alerts waiting


def _sinks(config: RunConfig) -> list[Plugin[AlertSink, plugins.SinkTraits]]:
    return [plugins.sinks.build(ref.name, ref.params) for ref in config.alerts.sinks]


def _labels(config: RunConfig) -> list[str]:
    """Each sink by its name (`webhook`, `webhook#2` for a second one): never by its params, which
    may hold a URL that is a secret."""
    names = [ref.name for ref in config.alerts.sinks]
    return [name if names.count(name) == 1 else f"{name}#{names[:i + 1].count(name)}" for i, name in enumerate(names)]


def sink_key(plugin: Plugin[AlertSink, plugins.SinkTraits]) -> str:
    """A sink is its spec: the same webhook with another URL variable is another sink."""
    return stable_hash(plugin.spec.key())


def _send(sink: AlertSink, messages: Sequence[AlertMessage], attempts: int, backoff_s: float,
          sleep: Callable[[float], None]) -> tuple[str | None, int]:
    """(None, tries) once the sink took them, else (the last error, tries)."""
    error: str | None = None
    for attempt in range(attempts):
        if attempt:
            sleep(backoff_s * 2 ** (attempt - 1))
        try:
            sink.send(messages)
            return None, attempt + 1
        except Exception as exc:  # noqa: BLE001 - any failure of a sink is a delivery to retry, never the cycle's
            error = f"{type(exc).__name__}: {exc}"
    return error, attempts


def deliver(config: RunConfig, store: Store, raised: Sequence[AlertRecord],
            sleep: Callable[[float], None] = time.sleep, secrets: Secrets | None = None) -> Delivered:
    """Queue `raised` for every sink, then send each sink what it has pending."""
    secrets = secrets if secrets is not None else run_secrets(config)
    done = Delivered()
    try:
        built = _sinks(config)
    except Exception as exc:  # noqa: BLE001 - a sink that cannot be built keeps the queue; the cycle goes on
        why = secrets.scrub(f"{type(exc).__name__}: {exc}")
        log.error("alert sinks not built, alerts stay queued: %s", why)
        return Delivered(pending={"(sinks)": why})
    labels = _labels(config)
    store.queue_deliveries([a.alert_id for a in raised], [(sink_key(p), label) for p, label in zip(built, labels)])
    raised_at: dict[str, datetime] | None = None  # read once, and only if some sink has alerts waiting
    for plugin, label in zip(built, labels, strict=True):
        key = sink_key(plugin)
        waiting = store.pending_deliveries(key)
        if not waiting:
            continue
        raised_at = raised_at if raised_at is not None else {a.alert_id: at for a, at, _ in store.alerts()}
        messages = [AlertMessage.of(a, config.alerts.board_url, raised_at[a.alert_id]) for a in waiting]
        error, tries = _send(plugin.obj, messages, config.alerts.send_attempts, config.alerts.backoff_s, sleep)
        error = secrets.scrub(error) if error else None
        store.record_delivery(key, [a.alert_id for a in waiting], error, tries)
        if error:
            done.pending[label] = error
            log.warning("alert sink %s did not take %d alert(s) after %d tries (kept for the next cycle): %s",
                        label, len(waiting), tries, error)
        else:
            done.sent[label] = len(waiting)
            log.info("alert sink %s took %d alert(s)", label, len(waiting))
    return done

