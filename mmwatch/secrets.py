"""The secrets a run holds, so that none of them ever leaves it: not in a stored value, a model id,
a log line, the board or an alert.

A hostile or buggy endpoint can echo the Authorization header back anywhere: in an answer, in an
error body, even as a model id on `/v1/models`. Adapters redact their own key at the source; this
is the net behind them. The secrets are the values of the environment variables the config names
(every `api_key_env`, `secrets.env`) and of variables whose names say they hold one (`*_API_KEY`,
`*_TOKEN`, `*_PASSWORD`, `*_SECRET`), read when the run starts; only their names are ever shown.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mmwatch.records import CellRecord
from mmwatch.types import Verdict

if TYPE_CHECKING:
    from mmwatch.config import RunConfig

MASK = "***"
MIN_SECRET_CHARS = 8  # shorter values ("EMPTY", "1", "true") are not secrets and would mask half the text
SECRET_NAME = re.compile(r"(?:^|_)(?:API_KEY|APIKEY|KEY|TOKEN|PASSWORD|PASSWD|SECRET)$", re.IGNORECASE)
NOT_SECRETS = frozenset({"EMPTY", "none", "null", "true", "false"})


@dataclass(frozen=True)
class Secrets:
    """Secret values by the name of the variable that holds them; `scrub` masks every occurrence."""

    values: Mapping[str, str]

    @classmethod
    def from_env(cls, names: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> Secrets:
        """The named variables, and every variable whose name says it holds a secret."""
        env = os.environ if environ is None else environ
        wanted = set(names) | {name for name in env if SECRET_NAME.search(name)}
        found = {name: env[name] for name in sorted(wanted) if _is_secret(env.get(name))}
        return cls(found)

    @classmethod
    def none(cls) -> Secrets:
        return cls({})

    def __bool__(self) -> bool:
        return bool(self.values)

    def found_in(self, text: str | None) -> list[str]:
        """The names of the variables whose value occurs in `text`."""
        if not text:
            return []
        return [name for name, value in self.values.items() if value in text]

    def scrub(self, text: str) -> str:
        for value in sorted(set(self.values.values()), key=len, reverse=True):  # longest first: one may hold another
            text = text.replace(value, MASK)
        return text

    def scrub_optional(self, text: str | None) -> str | None:
        return None if text is None else self.scrub(text)

    def scrub_value(self, value: Any) -> Any:
        """Strings inside any JSON-like value (dicts, lists), everything else as it is."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {k: self.scrub_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.scrub_value(v) for v in value)
        return value


def _is_secret(value: str | None) -> bool:
    return value is not None and len(value.strip()) >= MIN_SECRET_CHARS and value.strip() not in NOT_SECRETS


class ScrubbingRecords:
    """A log record factory that masks secrets in each record's message and traceback before any
    handler (console, file, Prefect's API log table) sees it. Logging is process-wide by nature, so
    this is installed once per process by the entry point that knows the config, and `install`
    replaces an earlier one instead of stacking."""

    def __init__(self, secrets: Secrets, base: Any) -> None:
        self.secrets, self.base = secrets, base

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.base(*args, **kwargs)
        if not self.secrets:
            return record
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is logging's to report, not ours
            return record
        scrubbed = self.secrets.scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and record.exc_info[1] is not None:
            trace = logging.Formatter().formatException(record.exc_info)
            if self.secrets.found_in(trace):  # the text traceback, masked, instead of the live one
                record.exc_text, record.exc_info = self.secrets.scrub(trace), None
        return record

    @staticmethod
    def install(secrets: Secrets) -> None:
        current = logging.getLogRecordFactory()
        base = current.base if isinstance(current, ScrubbingRecords) else current
        logging.setLogRecordFactory(ScrubbingRecords(secrets, base))


def run_secrets(config: RunConfig) -> Secrets:
    """The secrets of a run of `config`: the variables it names, and those named like secrets."""
    return Secrets.from_env(config.secret_env_names())


def scrub_cell(cell: CellRecord, secrets: Secrets) -> CellRecord:
    """The cell with every secret masked in what was sent and what came back (the cell key stays)."""
    probe, response = cell.probe, cell.response
    if not secrets.found_in(" ".join(filter(None, (response.text, response.error,
                                                   probe.text if probe else None, probe.system if probe else None,
                                                   probe.target if probe else None)))):
        return cell
    update: dict[str, Any] = {
        "response": response.model_copy(update={"text": secrets.scrub(response.text),
                                                "error": secrets.scrub_optional(response.error)}),
    }
    if probe is not None:
        update["probe"] = probe.model_copy(update={"text": secrets.scrub(probe.text),
                                                   "system": secrets.scrub_optional(probe.system),
                                                   "target": secrets.scrub_optional(probe.target)})
    return cell.model_copy(update=update)


def scrub_verdict(verdict: Verdict, secrets: Secrets) -> Verdict:
    rationale = getattr(verdict, "rationale", None)
    if isinstance(rationale, str) and secrets.found_in(rationale):
        return verdict.model_copy(update={"rationale": secrets.scrub(rationale)})
    return verdict
