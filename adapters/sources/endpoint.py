"""OpenAI-compatible endpoint source: model ids on `{base_url}/models` that match a glob.

An API model has no commit sha, so its revision is its id. That is a known blind spot: a
provider can change the model behind an id (aliases such as `gpt-4o` move; dated snapshots such
as `gpt-4o-2024-08-06` are meant not to), and mmwatch cannot see such a change. Watch dated ids
where the provider offers them. Ids are ordered in their lineage by the listing's `created`
timestamp when it gives one.

The key is read from the environment (`api_key_env`; `EMPTY`, what local servers accept, when
unset) and only its variable's name goes into the records; it is scrubbed from every message.
"""

from __future__ import annotations

import fnmatch
import logging
import os
from collections.abc import Callable

from adapters.openai_api import LOCAL_KEY, scrub
from mmwatch.config import WatchEndpoint
from mmwatch.plugins import source
from mmwatch.records import Discovery, ModelRecord, ModelSource

log = logging.getLogger(__name__)

TIMEOUT_S = 30.0
MAX_RETRIES = 2


def list_endpoint(base_url: str, key: str) -> list[tuple[str, float | None]]:
    """(id, created) for every model the endpoint lists; raises with the key scrubbed."""
    from openai import OpenAI, OpenAIError

    try:
        with OpenAI(api_key=key, base_url=base_url, max_retries=MAX_RETRIES, timeout=TIMEOUT_S) as client:
            return [(m.id, _created(getattr(m, "created", None))) for m in client.models.list()]
    except OpenAIError as exc:
        raise RuntimeError(scrub(f"cannot list models at {base_url}: {type(exc).__name__}: {exc}", key)) from None


def _created(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def scan_endpoint(watch: WatchEndpoint) -> Discovery:
    """Matching ids, oldest first when the listing dates them."""
    key = os.environ.get(watch.api_key_env) or LOCAL_KEY
    found = Discovery()
    try:
        listed = list_endpoint(watch.base_url, key)
    except Exception as exc:  # reported here so the message is scrubbed before discovery logs it
        found.skipped.append(scrub(f"endpoint {watch.base_url}: {exc}", key))
        log.warning("%s", found.skipped[-1])
        return found
    for model_id, created in sorted(dict(listed).items()):
        if not fnmatch.fnmatchcase(model_id, watch.match):
            continue
        params = {**watch.params, "model": model_id, "base_url": watch.base_url, "api_key_env": watch.api_key_env}
        found.models.append(ModelRecord(
            lineage=watch.lineage or model_id, revision=model_id, label=model_id, source=ModelSource.ENDPOINT,
            adapter=watch.adapter, adapter_params=params, order_key=created or 0.0,
        ))
    found.models.sort(key=lambda m: (m.order_key, m.label))
    return found


@source("openai-endpoint", version=1)
def endpoint_source(watch: WatchEndpoint) -> Callable[[], Discovery]:
    """Model ids served by an OpenAI-compatible endpoint."""
    return lambda: scan_endpoint(watch)
