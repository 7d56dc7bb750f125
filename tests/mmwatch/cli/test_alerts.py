"""`mmwatch run --fail-on-alert` and `mmwatch alerts list | ack | silence`, through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mmwatch.cli import app

CONFIG = """
store: {{path: {tmp}/db.duckdb, artifacts: {tmp}/art, snapshot: {tmp}/snap.duckdb}}
models:
  - {{lineage: acme/guard, revision: v1, order: 1, adapter: reference, params: {{behaviour: refuse-all}}}}
{second}
benchmarks: [{{name: mmwatch-mini, limit: 20, params: {{kinds: [harmful]}}}}]
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
"""
V2 = "  - {lineage: acme/guard, revision: v2, order: 2, adapter: reference, params: {behaviour: comply-all}}"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    return CliRunner()


def config(tmp_path: Path, second: str = "") -> str:
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG.format(tmp=tmp_path, second=second))
    return str(path)


def test_fail_on_alert_exits_3_only_on_a_night_that_raised_one(runner: CliRunner, tmp_path: Path) -> None:
    quiet = runner.invoke(app, ["run", "-c", config(tmp_path), "--fail-on-alert"])
    assert quiet.exit_code == 0, quiet.output
    raised = runner.invoke(app, ["run", "-c", config(tmp_path, V2), "--fail-on-alert"])
    assert raised.exit_code == 3, raised.output
    assert "ALERT" in raised.output and "acme/guard@v2: attack success rate 0% -> 100%" in raised.output
    assert (tmp_path / "snap.duckdb").exists()  # the cycle still completed and published
    again = runner.invoke(app, ["run", "-c", config(tmp_path, V2), "--fail-on-alert"])
    assert again.exit_code == 0 and "No new safety regression" in again.output
    without = runner.invoke(app, ["run", "-c", config(tmp_path, V2)])
    assert without.exit_code == 0


def test_alerts_list_ack_and_silence(runner: CliRunner, tmp_path: Path) -> None:
    cfg = config(tmp_path, V2)
    assert runner.invoke(app, ["alerts", "list", "-c", cfg]).output.strip() == "no alerts"
    assert runner.invoke(app, ["run", "-c", cfg]).exit_code == 0
    listed = runner.invoke(app, ["alerts", "list", "-c", cfg])
    assert listed.exit_code == 0 and "acme/guard@v2" in listed.output and "new" in listed.output
    from storage.store import DuckDBStore

    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        ((alert, _, _),) = store.alerts()
    acked = runner.invoke(app, ["alerts", "ack", alert.alert_id[:10], "-c", cfg, "--note", "ana: known"])
    assert acked.exit_code == 0, acked.output
    assert "acknowledged" in runner.invoke(app, ["alerts", "list", "-c", cfg, "--state", "acknowledged"]).output
    assert runner.invoke(app, ["alerts", "list", "-c", cfg, "--state", "new"]).output.strip() == "no alerts in state new"
    unknown = runner.invoke(app, ["alerts", "ack", "ffffffffff", "-c", cfg])
    assert unknown.exit_code == 2 and "no single alert" in unknown.output
    silenced = runner.invoke(app, ["alerts", "silence", "--lineage", "acme/*", "--until", "7d", "-c", cfg,
                                   "--metric", "utility", "--reason", "rework"])
    assert silenced.exit_code == 0 and "acme/*" in silenced.output and "(utility)" in silenced.output
    past = runner.invoke(app, ["alerts", "silence", "--lineage", "acme/*", "--until", "2001-01-01", "-c", cfg])
    assert past.exit_code == 2 and "in the past" in past.output
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        (row,) = store.con.execute("SELECT lineage, metric, reason FROM alert_silences").fetchall()
    assert row == ("acme/*", "utility", "rework")
