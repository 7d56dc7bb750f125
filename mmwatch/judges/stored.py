"""Score the current plan's stored answers with every configured judge that has not scored them.

Verdicts are keyed by (cell, judge, version), so a new or changed judge re-scores what is
stored without generating again, and a second run judges nothing twice. A judge whose traits
say it reads images gets each probe's images back from the artifact store, exactly the pixels
the model was shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from mmwatch.aio import run_sync
from mmwatch.analysis.outcomes import JudgeRef
from mmwatch.judges.runner import JudgePlugin, judge_all
from mmwatch.secrets import Secrets, scrub_verdict
from mmwatch.store import Store


def judge_stored(store: Store, plan_id: str, judges: Sequence[JudgePlugin], run_id: str,
                 concurrency: int = 8, secrets: Secrets | None = None) -> dict[str, int]:
    """New verdicts written, per judge. A judge that calls a model says how many calls it can have
    waiting (`concurrency`: an API judge's window); others get `concurrency`. A judge model's
    rationale is masked of `secrets` before it is stored (it may quote an echoed key)."""
    secrets = secrets or Secrets.none()
    written: dict[str, int] = {}
    for judge in judges:
        traits = judge.traits
        kinds = None if traits.target_only else sorted(traits.applies_to)
        answers = store.cells_missing_verdict(plan_id, JudgeRef(name=judge.spec.name, version=judge.spec.version),
                                              kinds, traits.target_only, traits.reads_images)
        items = [(a.cell_key, a.probe, a.response) for a in answers]
        window = getattr(judge.obj, "concurrency", concurrency)
        verdicts = run_sync(judge_all([judge], items, concurrency=window)) if items else []
        verdicts = [(key, scrub_verdict(v, secrets)) for key, v in verdicts] if secrets else verdicts
        written[judge.spec.name] = store.write_verdicts(run_id, verdicts)
    return written
