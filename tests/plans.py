"""Plans for tests that write cells by hand: the store counts only the cells a plan names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mmwatch import plugins
from mmwatch.analysis.outcomes import JudgeRef, JudgeRoles
from mmwatch.records import CellRecord, PlanRecord, PlanSpec, PublishOptions, SpecKind
from mmwatch.store import Store

ADAPTER = {"name": "reference", "version": 1, "params": {"behaviour": "refuse-all"}}
ROLES = JudgeRoles(safety=JudgeRef(name="refusal-keywords", version=1), utility=JudgeRef(name="exact-match", version=1),
                   target=JudgeRef(name="target-string", version=1))


def record_plan(store: Store, cells: Sequence[CellRecord], plan_id: str = "plan-1") -> PlanRecord:
    """A plan of exactly these cells; attack and defense `none` are the baselines, and a registered
    attack's traits say whether it is targeted (made-up attack names are not)."""
    specs: dict[tuple[SpecKind, str], PlanSpec] = {}
    for c in cells:
        for kind, spec, label, spec_hash in ((SpecKind.ATTACK, c.attack, c.attack_label, c.attack_hash),
                                             (SpecKind.DEFENSE, c.defense, c.defense_label, c.defense_hash)):
            name = str(spec["name"])
            targeted = (kind is SpecKind.ATTACK and name in plugins.attacks.names()
                        and plugins.attacks.info(name).traits.targeted)
            specs[(kind, spec_hash)] = PlanSpec(kind=kind, spec_hash=spec_hash, label=label,
                                                baseline=spec["name"] == "none", targeted=targeted)
    plan = PlanRecord(plan_id=plan_id, config_hash="cfg-test", cell_keys=tuple(c.cell_key for c in cells),
                      specs=tuple(specs.values()))
    store.record_plan(plan)
    return plan


def options(plan: PlanRecord, roles: JudgeRoles = ROLES, **more: Any) -> PublishOptions:
    return PublishOptions(plan_id=plan.plan_id, config_hash=plan.config_hash, roles=roles, **more)
