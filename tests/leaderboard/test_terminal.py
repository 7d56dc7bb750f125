"""The terminal table: one row per revision, with its revision, read through leaderboard.data."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from leaderboard.terminal import leaderboard_table


def test_terminal_table_names_each_revision(snapshot: Path) -> None:
    console = Console(width=400, record=True)
    console.print(leaderboard_table(snapshot))
    out = console.export_text()
    rows = {line.split("│")[2].strip(): line for line in out.splitlines() if line.count("│") > 5}
    assert "a1b2c3d" in rows["checkpoint-100"] and "e4f5a6b" in rows["checkpoint-200"]
    assert "revision" in out
