"""The one writer of the primary DuckDB database: the real `mmwatch.store.Store`.

Only the cycle's storage steps hold this object; readers use the published snapshot instead
(DuckDB lets one process hold a file read-write, and then nobody else may open it).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType

import duckdb

from mmwatch.analysis.outcomes import JudgeRef, JudgeRole, JudgeRoles, Outcome
from mmwatch.records import (
    AlertMetric,
    AlertRecord,
    AlertState,
    CanarySpec,
    CellRecord,
    ModelRecord,
    ModelSource,
    ModelStatus,
    ItemOutcome,
    PlanRecord,
    PublishOptions,
    RunRecord,
    RunStatus,
    StoredAnswer,
)
from mmwatch.store import Store
from mmwatch.types import AnswerKey, ImageData, Probe, Response, Sample, SampleKind, Verdict
from storage import alerts as alert_rows
from storage import ingest, metrics, outcomes, shards, snapshot
from storage.artifacts import ArtifactStore
from storage.rows import VERDICT_COLUMNS, cell_row, insert_rows, utcnow, verdict_row
from storage.schema import migrate

log = logging.getLogger(__name__)


_MODELS_SQL = ("SELECT lineage, revision, label, source, adapter, adapter_params, order_key, discovered_at, "
               "status, {canary} FROM models ORDER BY lineage, order_key, label")
_SAMPLE_COLUMNS = ("sample_id", "benchmark", "source_id", "category", "kind", "text", "image_sha", "reference",
                   "answer_key")


def _models(con: duckdb.DuckDBPyConnection) -> list[ModelRecord]:
    return [
        ModelRecord(lineage=r[0], revision=r[1], label=r[2], source=ModelSource(r[3]), adapter=r[4],
                    adapter_params=json.loads(r[5]), order_key=r[6], discovered_at=r[7], status=ModelStatus(r[8]),
                    canary=CanarySpec.model_validate_json(r[9]) if r[9] else None)
        for r in con.execute(_MODELS_SQL.format(canary=_canary_column(con))).fetchall()
    ]


def _canary_column(con: duckdb.DuckDBPyConnection) -> str:
    """`canary`, or NULL in a store not migrated yet (`models list` reads without migrating)."""
    found = con.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'models' "
                        "AND column_name = 'canary'").fetchone()
    return "canary" if found and found[0] else "NULL"


def read_models(path: Path) -> list[ModelRecord]:
    """The models table, read-only (for `mmwatch models list` while no run holds the file)."""
    if not Path(path).exists():
        return []
    with connect(Path(path), read_only=True) as con:
        return _models(con)


class StoreError(RuntimeError):
    """The primary store cannot be opened: the message names the file and why."""


class StoreBusy(StoreError):
    """Another process (a cycle still running) holds the primary store for writing."""


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    return "lock" in str(exc).lower()


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection, or StoreBusy (another process writes it) / StoreError (not a DuckDB file)."""
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if _is_lock_conflict(exc):
            raise StoreBusy(f"{path} is held by another process (a cycle still running?); readers should open "
                            "the published snapshot, or try again when it ends") from None
        raise StoreError(f"cannot open the store {path}: {exc}") from None
    except duckdb.Error as exc:
        raise StoreError(f"cannot open the store {path}: {exc}") from None


def skipped_runs_journal(path: Path) -> Path:
    """Where a cycle that could not get the store leaves its run row, for the next holder to record."""
    return Path(path).with_name(Path(path).name + ".skipped-runs.jsonl")


def journal_skipped_run(path: Path, run: RunRecord, message: str) -> None:
    line = json.dumps({"run": run.model_dump(mode="json"), "message": message, "at": utcnow().isoformat()})
    with skipped_runs_journal(path).open("a") as fh:
        fh.write(line + "\n")


class DuckDBStore:
    """Primary store: DuckDB file + content-addressed artifact folder.

    `wait_s`: how long to keep trying while another process holds the file (a cycle still
    running); then `StoreBusy`. Every open records the run rows that cycles which gave up left in
    the journal, so a skipped night shows in the runs table.
    """

    def __init__(self, path: Path, artifacts: Path, wait_s: float = 0.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.artifacts = ArtifactStore(artifacts)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                self.con = connect(self.path)
                break
            except StoreBusy as exc:
                if time.monotonic() >= deadline:
                    raise StoreBusy(f"{exc} (waited {wait_s:.0f} s)" if wait_s else str(exc)) from None
                time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
        migrate(self.con)
        outcomes.register_functions(self.con)
        self._record_skipped_runs()

    def _record_skipped_runs(self) -> None:
        journal = skipped_runs_journal(self.path)
        if not journal.exists():
            return
        for line in journal.read_text().splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            run = RunRecord.model_validate(entry["run"])
            self.con.execute(
                "INSERT OR IGNORE INTO runs (run_id, started_at, finished_at, status, config_name, config_hash, "
                "config_json, code_version, package_versions, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run.run_id, entry["at"], entry["at"], RunStatus.SKIPPED.value, run.config_name, run.config_hash,
                 run.config_json, run.code_version, json.dumps(run.package_versions, sort_keys=True),
                 entry["message"]])
        journal.unlink()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- images -------------------------------------------------------------------------
    def put_image(self, image: ImageData) -> str:
        return self.artifacts.put(image)

    def get_image(self, sha: str) -> ImageData:
        return self.artifacts.get(sha)

    # --- runs ---------------------------------------------------------------------------
    def start_run(self, run: RunRecord) -> None:
        self.con.execute(
            "INSERT INTO runs (run_id, started_at, status, config_name, config_hash, config_json, "
            "code_version, package_versions) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [run.run_id, utcnow(), RunStatus.RUNNING.value, run.config_name, run.config_hash, run.config_json,
             run.code_version, json.dumps(run.package_versions, sort_keys=True)],
        )

    def finish_run(self, run_id: str, status: RunStatus, planned: int, new: int, failed: int, message: str,
                   plan_id: str | None = None) -> None:
        self.con.execute(
            "UPDATE runs SET finished_at = ?, status = ?, cells_planned = ?, cells_new = ?, "
            "cells_failed = ?, message = ?, plan_id = coalesce(?, plan_id) WHERE run_id = ?",
            [utcnow(), status.value, planned, new, failed, message, plan_id, run_id],
        )

    def recount_finished_runs(self) -> None:
        """Set every finished run's cell counts to the cells it stored: shards a run wrote but did not
        ingest itself (killed, or a unit that finished late) are ingested by a later run."""
        self.con.execute(
            "UPDATE runs SET cells_new = c.n, cells_failed = c.f FROM (SELECT run_id, count(*) AS n, "
            "count(error) AS f FROM cells GROUP BY run_id) c WHERE runs.run_id = c.run_id AND runs.status <> ? "
            "AND (runs.cells_new IS DISTINCT FROM c.n OR runs.cells_failed IS DISTINCT FROM c.f)",
            [RunStatus.RUNNING.value])

    def recount_run(self, run_id: str) -> tuple[int, int]:
        row = self.con.execute("SELECT count(*), count(error) FROM cells WHERE run_id = ?", [run_id]).fetchone()
        new, failed = (int(row[0]), int(row[1])) if row else (0, 0)
        self.con.execute("UPDATE runs SET cells_new = ?, cells_failed = ? WHERE run_id = ?", [new, failed, run_id])
        return new, failed

    def close_interrupted_runs(self, by_run: str) -> list[str]:
        """Runs still marked running when a cycle holds the store ended without finishing (killed):
        say so, rather than leave them running forever."""
        stale = [r[0] for r in self.con.execute(
            "SELECT run_id FROM runs WHERE status = ? AND run_id <> ?", [RunStatus.RUNNING.value, by_run]).fetchall()]
        for run_id in stale:
            self.con.execute("UPDATE runs SET status = ?, finished_at = ?, message = ? WHERE run_id = ?",
                             [RunStatus.INTERRUPTED.value, utcnow(),
                              f"interrupted: the process ended before the run finished (found by run {by_run})",
                              run_id])
        return stale

    # --- models and samples -------------------------------------------------------------
    def upsert_models(self, models: Sequence[ModelRecord]) -> None:
        """Record each revision once; the first sighting keeps its discovery time."""
        for m in models:
            self.con.execute(
                "INSERT OR IGNORE INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [m.model_id, m.lineage, m.revision, m.label, m.source.value, m.adapter,
                 json.dumps(m.adapter_params, sort_keys=True, default=str), m.order_key,
                 m.discovered_at or utcnow(), m.status.value, m.canary.model_dump_json() if m.canary else None],
            )

    def set_model_status(self, model_id: str, status: ModelStatus) -> None:
        self.con.execute("UPDATE models SET status = ? WHERE model_id = ?", [status.value, model_id])

    def models(self) -> list[ModelRecord]:
        return _models(self.con)

    def upsert_samples(self, samples: Sequence[Sample]) -> None:
        rows = []
        for s in samples:
            sha = self.put_image(s.image) if s.image is not None else None
            rows.append([s.id, s.benchmark, s.source_id, s.category, s.kind.value, s.text, sha, s.reference,
                         s.answer_key.model_dump_json() if s.answer_key is not None else None])
        insert_rows(self.con, "samples", _SAMPLE_COLUMNS, rows, verb="INSERT OR REPLACE")

    # --- plans and cells ----------------------------------------------------------------
    def existing_cell_keys(self, keys: Iterable[str], max_attempts: int | None = None) -> set[str]:
        """Stored cells among `keys`; with `max_attempts`, an error row with fewer attempts does not
        count (it is to be computed again)."""
        wanted = list(keys)
        if not wanted:
            return set()
        final = "" if max_attempts is None else " AND (error IS NULL OR attempts >= ?)"
        params: list[object] = [wanted] + ([] if max_attempts is None else [max_attempts])
        rel = self.con.execute(f"SELECT cell_key FROM cells WHERE cell_key IN (SELECT unnest(?)){final}", params)
        return {r[0] for r in rel.fetchall()}

    def record_plan(self, plan: PlanRecord) -> None:
        """Store the plan's cells and specs once; a plan seen before is already there."""
        if self.con.execute("SELECT 1 FROM plans WHERE plan_id = ?", [plan.plan_id]).fetchall():
            return
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute("INSERT INTO plans VALUES (?, ?, ?, ?)",
                             [plan.plan_id, plan.config_hash, len(plan.cell_keys), utcnow()])
            self.con.executemany("INSERT INTO plan_specs VALUES (?, ?, ?, ?, ?, ?)",
                                 [[plan.plan_id, s.kind.value, s.spec_hash, s.label, s.baseline, s.targeted]
                                  for s in plan.specs])
            self.con.execute("INSERT INTO plan_cells SELECT ?, unnest(?)", [plan.plan_id, list(plan.cell_keys)])
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def write_cells(self, cells: Sequence[CellRecord]) -> int:
        """Insert cells; a key already stored is left as it is, unless it is an error row and this is a
        later attempt. Returns how many rows were written."""
        rows = [cell_row(c, [self.put_image(img) for img in c.probe.images] if c.probe else []) for c in cells]
        return ingest.insert_cells(self.con, rows)

    def error_attempts(self, keys: Iterable[str]) -> dict[str, int]:
        """How many times each of these cells failed, for those stored as error rows."""
        wanted = list(keys)
        if not wanted:
            return {}
        rel = self.con.execute("SELECT cell_key, attempts FROM cells WHERE error IS NOT NULL AND "
                               "cell_key IN (SELECT unnest(?))", [wanted])
        return {r[0]: int(r[1] or 1) for r in rel.fetchall()}

    # --- result shards ------------------------------------------------------------------
    def ingest_shards(self, results: str, torn_after_s: float | None = None) -> tuple[int, int]:
        """Cells, verdicts and images of every shard in `results` not ingested yet (storage/ingest.py);
        parts a killed worker left half-written over `torn_after_s` ago are removed first."""
        if torn_after_s is not None:
            torn = shards.remove_torn_parts(results, torn_after_s)
            if torn:
                log.info("removed %d result part(s) a killed worker left half-written in %s", torn, results)
        return ingest.ingest_shards(self.con, self.artifacts, results)

    def stored_probe(self, model_id: str, attack_hash: str, sample_id: str, probe_index: int) -> Probe | None:
        """A probe this attack already made for this model and sample in any earlier cell (another
        defense, other generation settings), so an expensive white-box attack is computed once."""
        rows = self.con.execute(
            "SELECT probe_system, probe_text, probe_images, probe_target, probe_params FROM cells "
            "WHERE model_id = ? AND attack_hash = ? AND sample_id = ? AND probe_index = ? AND error IS NULL "
            "AND probe_text IS NOT NULL ORDER BY created_at LIMIT 1",
            [model_id, attack_hash, sample_id, probe_index],
        ).fetchall()
        if not rows:
            return None
        row = rows[0]
        return Probe(sample_id=sample_id, index=probe_index, system=row[0], text=row[1],
                     images=tuple(self.get_image(sha) for sha in row[2]), target=row[3],
                     attack_params=json.loads(row[4] or "{}"))

    # --- verdicts -----------------------------------------------------------------------
    def cells_missing_verdict(self, plan_id: str, judge: JudgeRef, kinds: Sequence[SampleKind] | None,
                              target_only: bool, with_images: bool) -> list[StoredAnswer]:
        """Answered cells of the plan that this judge (at this version) has not scored yet;
        `with_images` reads each probe's images back from the artifact folder."""
        sql = (
            "SELECT c.cell_key, c.sample_id, c.probe_index, c.probe_system, c.probe_text, c.probe_target, "
            "c.probe_params, s.kind, s.reference, s.category, c.response_text, c.tokens_in, c.tokens_out, "
            "c.latency_s, c.probe_images, s.answer_key FROM plan_cells p JOIN cells c USING (cell_key) "
            "JOIN samples s USING (sample_id) WHERE p.plan_id = ? AND c.error IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM verdicts v WHERE v.cell_key = c.cell_key AND v.judge = ? AND v.judge_version = ?)"
        )
        params: list[object] = [plan_id, judge.name, judge.version]
        if kinds is not None:
            sql += " AND s.kind IN (SELECT unnest(?))"
            params.append([k.value for k in kinds])
        if target_only:
            sql += " AND c.probe_target IS NOT NULL"
        out = []
        for row in self.con.execute(sql + " ORDER BY c.cell_key", params).fetchall():
            images = tuple(self.get_image(sha) for sha in row[14] or ()) if with_images else ()
            probe = Probe(sample_id=row[1], index=row[2], system=row[3], text=row[4] or "", target=row[5],
                          attack_params=json.loads(row[6] or "{}"), kind=SampleKind(row[7]),
                          reference=row[8], category=row[9], images=images,
                          answer_key=AnswerKey.model_validate_json(row[15]) if row[15] else None)
            response = Response(text=row[10] or "", tokens_in=row[11], tokens_out=row[12], latency_s=row[13])
            out.append(StoredAnswer(cell_key=row[0], probe=probe, response=response))
        return out

    def write_verdicts(self, run_id: str, verdicts: Sequence[tuple[str, Verdict]]) -> int:
        rows = [verdict_row(key, v, run_id) for key, v in verdicts]
        before = ingest.count(self.con, "verdicts")
        insert_rows(self.con, "verdicts", VERDICT_COLUMNS, rows)
        return ingest.count(self.con, "verdicts") - before

    # --- regressions and publishing -----------------------------------------------------
    def item_outcomes(self, plan_id: str, roles: JudgeRoles) -> list[ItemOutcome]:
        """Every scored answer of the plan (canary nights included), for its primary role and the safety role."""
        outcomes.prepare(self.con, plan_id, roles, canaries=True)
        return [ItemOutcome(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], SampleKind(r[11]),
                            r[12] or "", bool(r[13]), JudgeRole(r[14]), bool(r[15]), Outcome(r[16]))
                for r in self.con.execute(metrics.ITEM_OUTCOMES).fetchall()]

    # --- alerts (storage/alerts.py) ---------------------------------------------------------
    def write_alerts(self, alerts: Sequence[AlertRecord]) -> list[AlertRecord]:
        return alert_rows.raise_alerts(self.con, alerts)

    def alerts(self, states: Sequence[AlertState] = ()) -> list[tuple[AlertRecord, datetime, str | None]]:
        return alert_rows.alerts(self.con, states)

    def set_alert_state(self, alert_id: str, state: AlertState, note: str | None = None) -> bool:
        return alert_rows.set_state(self.con, alert_id, state, note)

    def add_silence(self, lineage: str, until: datetime, metric: AlertMetric | None = None,
                    reason: str | None = None) -> str:
        return alert_rows.add_silence(self.con, lineage, until, metric, reason)

    def queue_deliveries(self, alert_ids: Sequence[str], sinks: Sequence[tuple[str, str]]) -> None:
        alert_rows.queue_deliveries(self.con, alert_ids, sinks)

    def pending_deliveries(self, sink: str) -> list[AlertRecord]:
        return alert_rows.pending(self.con, sink)

    def record_delivery(self, sink: str, alert_ids: Sequence[str], error: str | None, tries: int) -> None:
        alert_rows.record_delivery(self.con, sink, alert_ids, error, tries)

    def watch_marks(self, plan_id: str) -> dict[str, int]:
        return alert_rows.watch_marks(self.con, plan_id)

    def set_watch_marks(self, plan_id: str, marks: dict[str, int]) -> None:
        alert_rows.set_watch_marks(self.con, plan_id, marks)

    def publish(self, snapshot_path: Path, options: PublishOptions) -> Path:
        return snapshot.publish(self.con, snapshot_path, options)



def _is_a_store(store: DuckDBStore) -> Store:
    """The type checker proves here that DuckDBStore is what the core is typed against."""
    return store
