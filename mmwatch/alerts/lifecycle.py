"""An alert's life: raised once, then new -> acknowledged (by a person), silenced (a silence covered
it when raised), or resolved (a later revision of the lineage is back at the baseline's level).

`watch_night` is the cycle's step: it compares only the revisions whose scored answers changed
since they were last compared (new revisions, retried cells, a new judge), so the night's family
of tests, and its multiple-comparison correction, is tonight's work, not every night's again.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from mmwatch.alerts.delivery import Delivered
from mmwatch.alerts.watch import Events, Slice, event_table, find_regressions, lineages
from mmwatch.config import RunConfig
from mmwatch.records import AlertRecord, AlertState, ItemOutcome
from mmwatch.store import Store

log = logging.getLogger(__name__)

OPEN = (AlertState.NEW, AlertState.ACKNOWLEDGED)


@dataclass
class NightWatch:
    comparisons: int
    raised: list[AlertRecord]  # new tonight, not silenced: what is sent
    silenced: list[AlertRecord]
    resolved: list[tuple[str, str]]  # (alert id, the revision that recovered)
    delivered: Delivered = field(default_factory=Delivered)


def slice_of(alert: AlertRecord) -> Slice:
    return Slice(alert.metric, alert.judge, alert.judge_version, alert.attack_hash, alert.defense_hash, alert.attack,
                 alert.defense, alert.category)


def recoveries(open_alerts: list[AlertRecord], rows: list[ItemOutcome],
               table: dict[tuple[str, Slice], Events]) -> list[tuple[str, str]]:
    """Open alerts whose lineage has a later revision at or below the baseline's bad share on the slice."""
    by_lineage = lineages(rows)
    order = {m: i for revisions in by_lineage.values() for i, m in enumerate(revisions)}
    found = []
    for alert in open_alerts:
        where = slice_of(alert)
        baseline = table.get((alert.baseline_id, where))
        if not baseline or alert.model_id not in order:
            continue
        level = sum(baseline.values()) / len(baseline)
        for later in by_lineage.get(alert.lineage, [])[order[alert.model_id] + 1:]:
            events = table.get((later, where))
            if events and sum(events.values()) / len(events) <= level:
                found.append((alert.alert_id, later))
                break
    return found


def watch_night(config: RunConfig, store: Store, plan_id: str, run_id: str) -> NightWatch:
    """Compare what changed, raise what got worse (once), resolve what recovered."""
    rows = store.item_outcomes(plan_id, config.judge_roles())
    scored = Counter(r.model_id for r in rows)
    marks = store.watch_marks(plan_id)
    changed = {m for m, n in scored.items() if marks.get(m) != n}
    table = event_table(rows, config.regression.per_category)  # built once: the watch and recoveries read it
    comparisons, alerts = find_regressions(rows, config.regression, run_id, changed, table)
    fresh = store.write_alerts(alerts)
    store.set_watch_marks(plan_id, {m: scored[m] for m in changed})
    open_alerts = [a for a, _, _ in store.alerts(OPEN)]
    resolved = recoveries(open_alerts, rows, table)
    for alert_id, later in resolved:
        store.set_alert_state(alert_id, AlertState.RESOLVED, f"{later} recovered")
    raised = [a for a in fresh if a.state is AlertState.NEW]
    silenced = [a for a in fresh if a.state is AlertState.SILENCED]
    log.info("%d comparison(s) of %d changed revision(s): %d new alert(s), %d silenced, %d resolved",
             len(comparisons), len(changed), len(raised), len(silenced), len(resolved))
    return NightWatch(len(comparisons), raised, silenced, resolved)
