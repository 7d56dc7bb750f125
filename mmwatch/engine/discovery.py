"""Find the model revisions to evaluate: those named in the config, then every watched source.

Each source is a plugin (`@source("folder")`, `hf-hub`, `openai-endpoint`) that turns its part
of the config into ModelRecords. One source failing (a hub that is down) is reported and
skipped; the others still count.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from mmwatch import plugins
from mmwatch.config import RunConfig, WatchFolder
from mmwatch.records import Discovery, ModelRecord, ModelSource
from mmwatch.secrets import Secrets, run_secrets

log = logging.getLogger(__name__)


def configured_models(config: RunConfig) -> list[ModelRecord]:
    """The models the config names. One that names no revision gets the revision of the weights
    its adapter points at, when the adapter can tell (a local checkpoint's content hash)."""
    out = []
    for m in config.models:
        revision, order = m.revision, m.order
        if "revision" not in m.model_fields_set:
            found = plugins.adapters.info(m.adapter).traits.revision(m.params)
            if found is not None:
                revision, order = found, m.order if m.order is not None else 0.0
        out.append(ModelRecord(lineage=m.lineage, revision=revision, label=m.label or m.lineage.rsplit("/", 1)[-1],
                               source=ModelSource.CONFIG, adapter=m.adapter, adapter_params=dict(m.params),
                               order_key=order if order is not None else _trailing_number(revision)))
    return out


def watched_lineages(config: RunConfig, found: Discovery) -> set[str]:
    """The lineages this config stands for: named, watched, or found tonight. Their earlier
    revisions stay on the board (and are compared with) after they are no longer available."""
    named = {m.lineage for m in config.models} | {m.lineage for m in found.models}
    for watch in config.watch:
        if watch.lineage:
            named.add(watch.lineage)
        elif isinstance(watch, WatchFolder):
            named.add(Path(watch.path).name)  # the folder source's default lineage
    return named


def _trailing_number(revision: str) -> float:
    match = re.search(r"(\d+(?:\.\d+)?)$", revision)
    return float(match.group(1)) if match else 0.0


def discover(config: RunConfig, secrets: Secrets | None = None) -> Discovery:
    """Every model revision the config points at, named ones first. A listed model whose id or
    parameters hold a secret (a server echoing its key) is refused: it would carry the secret into
    the store, the board and every log line that names the model."""
    secrets = secrets if secrets is not None else run_secrets(config)
    found = Discovery(models=configured_models(config))
    for i, watch in enumerate(config.watch):
        try:
            part = plugins.sources.info(watch.source).factory(watch)()
        except Exception as exc:  # a source that is down costs its own models only
            why = secrets.scrub(f"watch[{i}] ({watch.source}): {exc}")
            log.warning("discovery source %s", why)
            found.skipped.append(why)
            continue
        part.models = [_with_intake(m, config) for m in part.models]
        part.skipped = [secrets.scrub(why) for why in part.skipped]
        found.extend(part)
    return _without_secrets(found, secrets)


def _without_secrets(found: Discovery, secrets: Secrets) -> Discovery:
    kept = []
    for model in found.models:
        names = secrets.found_in(model.model_dump_json())
        if names:
            why = (f"a model listed by {model.source.value} source {secrets.scrub(model.lineage)!r} was refused: its "
                   f"id or parameters contain the value of {', '.join(names)} (a server echoing its key?)")
            log.error("%s", why)
            found.skipped.append(why)
        else:
            kept.append(model)
    found.models = kept
    return found


def _with_intake(model: ModelRecord, config: RunConfig) -> ModelRecord:
    """Apply the intake rules: remote code only for allow-listed lineages, a disk margin for hub pulls."""
    params = dict(model.adapter_params)
    if config.intake.allows_remote_code(model.lineage):
        params["trust_remote_code"] = True
    if model.source is ModelSource.HUB and model.adapter == "hf":
        params.setdefault("min_free_gb", config.intake.min_free_disk_gb)
    return model.model_copy(update={"adapter_params": params})
