"""Per-item results: the Samples page's lists and one item in full, and the operator's label queue.

Responses (and judge rationales) to harmful and unknown items are redacted unless the snapshot is an
operator one. The public publisher never writes them; redacting here too means a snapshot written
by a buggy or older publisher still cannot show them. `redacted` marks rows hidden by policy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb
import pandas as pd
from pydantic import TypeAdapter, ValidationError

from leaderboard.data.source import NAMES, PUBLIC_KINDS, PathArg, opened, query
from mmwatch.types import DefenseStep

log = logging.getLogger(__name__)

_PUBLIC = ", ".join(f"'{kind}'" for kind in PUBLIC_KINDS)
# Policy read in the same query as the rows, so a snapshot swapped in between cannot mix.
# Shown only where the snapshot is an operator one by both keys the publisher writes (mode, and
# show_responses, which older readers know): a snapshot that says public anywhere redacts.
VISIBLE = f"""(coalesce((SELECT lower(trim(value)) = 'operator' FROM meta WHERE key = 'mode'), false)
        AND coalesce((SELECT lower(trim(value)) = 'true' FROM meta WHERE key = 'show_responses'), false)
        OR coalesce(e.kind IN ({_PUBLIC}), false))"""
_COLUMNS = f"""e.sample_id, e.category, e.kind, e.attack, e.defense, e.prompt, e.label, e.outcome, e.judge,
            CASE WHEN {VISIBLE} THEN e.response_text END AS response_text, NOT {VISIBLE} AS redacted, e.error,
            e.model_id, e.cell_key, e.system_text, e.image_shas, coalesce(e.disagree, false) AS disagree,
            e.benchmark, e.probe_index, e.attack_hash, e.defense_hash,
            CASE WHEN {VISIBLE} THEN e.defense_steps END AS defense_steps"""


def examples(model_id: str, attack: str, *, defense: str | None = None, category: str | None = None,
             limit: int = 500, path: PathArg = None) -> pd.DataFrame:
    """Per-sample results of one model under one attack (every defense unless one is named)."""
    return sample_items(model_id, attack, defense=defense, category=category, limit=limit, path=path)


def sample_items(model_id: str | None = None, attack: str | None = None, *, defense: str | None = None,
                 category: str | None = None, kind: str | None = None, disagree: bool = False,
                 alert_id: str | None = None, search: str | None = None, limit: int = 500,
                 path: PathArg = None) -> pd.DataFrame:
    """Items filtered by any of: model, attack, defense, category, kind; only where the judges
    disagree; only an alert's newly failed items; prompt or item id containing `search` (any case).

    In item order (kind, category, sample, defense, revision, attack, probe: the snapshot's
    item_order), the order the table is written in, so the first `limit` rows are found without
    sorting the rest. Only the filters given are in the query, each a plain comparison the scan can
    use; the search runs over the distinct prompts (`prompts`), then picks their rows by prompt_id.
    """
    where: list[str] = []
    params: list[object] = []
    for column, value in (("model_id", model_id), ("attack", attack), ("defense", defense),
                          ("category", category), ("kind", kind)):
        if value is not None:
            where.append(f"e.{column} = ?")
            params.append(value)
    if disagree:
        where.append("e.disagree")
    if search and search.strip():
        needle = f"%{search.strip().lower()}%"
        where.append("e.prompt_id IN (SELECT prompt_id FROM prompts WHERE text LIKE ? OR lower(sample_id) LIKE ?)")
        params += [needle, needle]
    if alert_id:
        where.append("e.item_order IN (SELECT item_order FROM alert_items WHERE alert_id = ?)")
        params.append(alert_id)
    return query(
        f"""SELECT {_COLUMNS} FROM examples e WHERE {" AND ".join(where) or "true"}
        ORDER BY e.item_order LIMIT ?""",
        [*params, limit], path=path,
    )


def example_index(*, path: PathArg = None) -> pd.DataFrame:
    """Which (model, attack, defense) have per-sample rows, for the drill-down's pickers (the
    snapshot's example_groups: counted when it was published)."""
    return query(
        f"""WITH {NAMES}
        SELECT coalesce(n.model, g.model_id) AS model, g.model_id, g.attack, g.defense,
            g.n::BIGINT AS n, g.disagreements::BIGINT AS disagreements FROM example_groups g
        LEFT JOIN names n USING (model_id) ORDER BY model, g.attack, g.defense""",
        path=path,
    )


@dataclass(frozen=True)
class SampleView:
    """One item as sent and answered: the row, every judge's verdict, the images (None where the
    snapshot does not publish one), and the same item on the predecessor revision."""

    row: pd.Series
    model: str
    steps: list[DefenseStep]  # what the defense did first; empty where none, or where redacted
    verdicts: pd.DataFrame
    images: list[bytes | None]
    predecessor: SampleView | None


def _item_order(con: duckdb.DuckDBPyConnection, cell_key: str) -> int | None:
    """Where the cell's row is in examples (cell_index is sorted by cell_key: a row group or two is
    read, where `examples WHERE cell_key = ?` would read all of them); None where it has none."""
    row = con.execute("SELECT item_order FROM cell_index WHERE cell_key = ? LIMIT 1", [cell_key]).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _verdicts(con: duckdb.DuckDBPyConnection, cell_key: str, order: int | None) -> pd.DataFrame:
    """The cell's verdicts; its example (kind: the policy; judge: which one is primary) by item_order."""
    return query(
        f"""WITH e AS (SELECT kind, judge FROM examples WHERE item_order = ? AND cell_key = ?)
        SELECT v.judge, v.judge_version, v.label, v.outcome, v.score,
            CASE WHEN {VISIBLE} THEN v.rationale END AS rationale, v.judge = e.judge AS primary_judge
        FROM verdicts v, e WHERE v.cell_key = ?
        ORDER BY primary_judge DESC, v.judge""",
        [order, cell_key, cell_key], con=con,
    )


def verdicts(cell_key: str, *, path: PathArg = None) -> pd.DataFrame:
    """Every judge's verdict on one cell; the rationale is redacted where the response is."""
    with opened(path) as con:
        return _verdicts(con, cell_key, _item_order(con, cell_key))


def _images(con: duckdb.DuckDBPyConnection, shas: list[str]) -> list[bytes | None]:
    found = dict(con.execute("SELECT sha, png FROM images WHERE sha IN (SELECT unnest(?::VARCHAR[]))",
                             [shas]).fetchall()) if shas else {}
    return [bytes(found[sha]) if found.get(sha) is not None else None for sha in shas]


def image(sha: str, *, path: PathArg = None) -> bytes | None:
    """The published image (PNG bytes), or None where it is not in the snapshot."""
    with opened(path) as con:
        return _images(con, [sha])[0]


def _predecessor_key(con: duckdb.DuckDBPyConnection, row: pd.Series, key: int | None) -> str | None:
    """The same item (item_key: sample, probe, attack and defense specs) on the latest earlier revision
    that has it."""
    df = query(
        """WITH me AS (SELECT lineage, order_key FROM leaderboard WHERE model_id = ?)
        SELECT e.cell_key FROM examples e JOIN leaderboard l USING (model_id), me
        WHERE l.lineage = me.lineage AND l.order_key < me.order_key AND e.item_key = ?
        ORDER BY l.order_key DESC LIMIT 1""",
        [row["model_id"], key], con=con,
    )
    return str(df["cell_key"].iloc[0]) if len(df) else None


def _steps(raw: object, cell_key: str) -> list[DefenseStep]:
    """The cell's defense steps; a malformed list is shown as none rather than breaking the page."""
    if not isinstance(raw, str) or not raw:
        return []
    try:
        return TypeAdapter(list[DefenseStep]).validate_json(raw)
    except ValidationError:
        log.warning("snapshot cell %s: unreadable defense_steps, not shown", cell_key)
        return []


def sample_detail(cell_key: str, *, with_predecessor: bool = True, path: PathArg = None) -> SampleView | None:
    """One item in full, or None when the snapshot has no such cell (every query on one connection)."""
    with opened(path) as con:
        return _detail(con, cell_key, with_predecessor)


def _detail(con: duckdb.DuckDBPyConnection, cell_key: str, with_predecessor: bool) -> SampleView | None:
    order = _item_order(con, cell_key)
    if order is None:
        return None
    df = query(
        f"""WITH {NAMES} SELECT coalesce(n.model, e.model_id) AS model, {_COLUMNS}, e.item_key
        FROM examples e LEFT JOIN names n USING (model_id) WHERE e.item_order = ? AND e.cell_key = ?""",
        [order, cell_key], con=con,
    )
    if df.empty:
        return None
    key = None if pd.isna(df["item_key"].iloc[0]) else int(df["item_key"].iloc[0])
    row = df.drop(columns="item_key").iloc[0]
    shas = [str(s) for s in row["image_shas"]] if row["image_shas"] is not None else []
    before = None
    if with_predecessor and key is not None and (earlier := _predecessor_key(con, row, key)) is not None:
        before = _detail(con, earlier, with_predecessor=False)
    return SampleView(row=row, model=str(row["model"]), steps=_steps(row["defense_steps"], cell_key),
                      verdicts=_verdicts(con, cell_key, order), images=_images(con, shas), predecessor=before)


def label_queue(*, limit: int = 200, exclude: tuple[str, ...] = (), path: PathArg = None) -> pd.DataFrame:
    """Answers for a person to label, those the judges disagree on first (then those with the most
    distinct outcomes among the judges, unscored before scored, then by item and revision); only
    answers the snapshot shows, i.e. an operator snapshot's. The order is the snapshot's label_rank,
    ranked when it was published (storage/metrics.py ordered): no verdict is grouped here.

    The answer lies within the first limit + len(exclude) ranks unless the policy hides some of
    them (a public snapshot that holds a harmful answer), or there are fewer: those ranks are read
    first (a filter on one integer column), and all of them only when that comes up short."""
    with opened(path) as con:
        first = _queue(con, limit, exclude, limit + len(exclude))
        return first if len(first) >= limit else _queue(con, limit, exclude, None)


def _queue(con: duckdb.DuckDBPyConnection, limit: int, exclude: tuple[str, ...], ranks: int | None) -> pd.DataFrame:
    within = "" if ranks is None else f"AND e.label_rank <= {int(ranks)}"
    return query(
        f"""WITH {NAMES}, q AS (
            SELECT {_COLUMNS}, e.judge_outcomes::BIGINT AS outcomes, e.label_rank FROM examples e
            WHERE e.label_rank IS NOT NULL {within} AND {VISIBLE} AND e.cell_key NOT IN (SELECT unnest(?::VARCHAR[]))
            ORDER BY e.label_rank LIMIT ?)
        SELECT coalesce(n.model, q.model_id) AS model, q.* EXCLUDE (label_rank)
        FROM q LEFT JOIN names n USING (model_id) ORDER BY q.label_rank""",
        [list(exclude), limit], con=con,
    )
