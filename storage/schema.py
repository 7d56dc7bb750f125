"""Numbered schema migrations with a version table; the store applies what is missing on open.

A migration is `NNN_name.sql`, or `NNN_name.py` with a `migrate(con)` function when rows must be
rewritten by code the core owns (a hash). Each runs in its own transaction.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from importlib import resources

import duckdb

_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.(sql|py)$")

Migration = Callable[[duckdb.DuckDBPyConnection], None]


def _sql(text: str) -> Migration:
    def run(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(text)

    return run


def available() -> list[tuple[int, Migration]]:
    """(version, migration) of every migration shipped with the package, in order."""
    folder = resources.files("storage") / "migrations"
    found: list[tuple[int, Migration]] = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if not match:
            continue
        version = int(match.group(1))
        if match.group(2) == "sql":
            found.append((version, _sql(entry.read_text())))
        else:
            module = importlib.import_module(f"storage.migrations.{entry.name[:-3]}")
            found.append((version, module.migrate))
    versions = [v for v, _ in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"two migrations share a number in {folder}: {sorted(versions)}")
    return sorted(found, key=lambda item: item[0])


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)"
    )
    rows = con.execute("SELECT max(version) FROM schema_version").fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply missing migrations, each in its own transaction; returns the versions applied."""
    have = current_version(con)
    applied = []
    for version, step in available():
        if version <= have:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            step(con)
            con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied
