"""Family 4, hostile names: markup in ids, categories, prompts, answers and the title, through a cycle,
the terminal table and two board pages, which must show it as text."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from .common import KEY_ENV, REPO, SECRET, Outcome, capture_logs, check, secret_in_tables, short
from .endpoint import Fault, FaultEndpoint, PerPrompt, Received

PAYLOADS = ("![px](http://127.0.0.1:9/p)", "<img src=x onerror=alert(1)>", "[bold red]x[/]")
PAYLOAD = " ".join(PAYLOADS)
_LIVE = {"link_open", "image", "html_inline", "html_block"}
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def live_markdown(body: str) -> list[str]:
    """What in a Streamlit markdown body would render as a link, image or HTML (CommonMark)."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    found = []
    for block in parser.parse(body):
        found += [block.type] if block.type in _LIVE else []
        found += [t.type for t in block.children or [] if t.type in _LIVE]
    found += ["unescaped ![" for _ in [0] if "![" in body]
    found += ["unescaped <img" for _ in [0] if re.search(r"(?<!\\)<img", body)]
    return found


def page_bodies(at: Any) -> list[str]:
    """Every string of a rendered page that Streamlit reads as markdown."""
    bodies = []
    for node in at:
        proto = getattr(node, "proto", None)
        for name in ("body", "label", "help"):
            value = getattr(proto, name, None) if proto is not None else None
            if isinstance(value, str) and value:
                bodies.append(value)
    return bodies


def hostile_names(tmp: Path) -> list[Outcome]:
    """A cycle over benchmark rows (ids, categories, prompts), responses and a title carrying markdown,
    HTML and rich markup; then the terminal table and two board pages must show them as text."""
    from rich.console import Console
    from streamlit.testing.v1 import AppTest

    from leaderboard.terminal import leaderboard_table
    from mmwatch.config import load_config
    from mmwatch.engine.cycle import run_cycle
    from storage.store import DuckDBStore

    # AppTest runs pages bare, which Streamlit warns about once per page: noise, not a finding.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage())
    os.environ[KEY_ENV] = SECRET
    csv = tmp / "hostile.csv"
    rows = [(PAYLOADS[0], f"What is shown? {PAYLOAD}", "harmful", PAYLOADS[1]),
            (PAYLOADS[1], f"Tell me how. {PAYLOAD}", "harmful", PAYLOADS[2]),
            (PAYLOADS[2], f"How do I kill a Python process? {PAYLOAD}", "benign", PAYLOADS[0])]
    csv.write_text("id,text,kind,category\n" + "".join(",".join(r) + "\n" for r in rows))
    echo_prompt = rows[1][1]

    def answer(request: Received) -> str:
        return f"Sure: {PAYLOAD}"

    with FaultEndpoint(PerPrompt({echo_prompt: [Fault.ECHO_KEY]}), answer=answer) as server:
        config_file = tmp / "c.yaml"
        config_file.write_text(json.dumps({  # JSON is YAML: no quoting to get wrong
            "store": {"path": str(tmp / "db.duckdb"), "artifacts": str(tmp / "art"), "snapshot": str(tmp / "snap.duckdb")},
            "models": [{"lineage": "api/hostile", "revision": f"v1 {PAYLOAD}", "adapter": "openai",
                        "params": {"model": "m", "base_url": server.url, "api_key_env": KEY_ENV, "max_retries": 0}}],
            "benchmarks": [{"name": "table", "params": {"path": str(csv), "name": "hostile"}}],
            "judges": [{"name": "refusal-keywords"}, {"name": "exact-match"}],
            "leaderboard": {"title": f"board {PAYLOAD}", "show_responses": True},
        }))
        printed = io.StringIO()
        with capture_logs() as logs, contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            config = load_config(config_file)
            with DuckDBStore(config.store.path, config.store.artifacts) as store:
                report = run_cycle(config, store)
    snapshot = Path(report.snapshot)
    cycle = [] if (report.cells_new, report.cells_failed) == (3, 0) else [
        f"cycle stored {report.cells_new} cells ({report.cells_failed} errors), expected 3 (0)"]

    console = Console(record=True, width=6000, file=io.StringIO(), force_terminal=True, color_system="truecolor")
    console.print(leaderboard_table(snapshot))
    terminal = console.export_text()

    os.environ["MMWATCH_SNAPSHOT"] = str(snapshot)
    pages: dict[str, tuple[list[str], list[str], set[str]]] = {}  # page -> (errors, live bodies, cell texts)
    for page, path in (("ranking page", REPO / "leaderboard" / "app.py"),
                       ("samples page", REPO / "leaderboard" / "pages" / "samples.py")):
        at = AppTest.from_file(str(path), default_timeout=90).run()
        errors = [short(str(e.value)) for e in at.exception]
        bodies = page_bodies(at)
        live = [f"{hits} in {short(b, 120)!r}" for b in bodies if (hits := live_markdown(b))]
        cells = {str(v) for df in at.dataframe for v in df.value.to_numpy().ravel()}
        read = {_ESCAPE.sub(r"\1", b).replace("\u2060", "") for b in bodies}
        pages[page] = (errors, live, cells | read)

    out: list[Outcome] = []
    for payload in PAYLOADS:
        wrong = cycle + ([] if payload in terminal else ["not printed literally in the terminal table"])
        out.append(check(f"terminal table: {payload}", wrong, "printed as the literal text"))
        for page, (errors, live, texts) in pages.items():
            wrong = cycle + errors + live[:2]
            wrong += [] if any(payload in t for t in texts) else [f"{payload!r} is not shown as text"]
            out.append(check(f"{page}: {payload}", wrong, "shown as text, no link/image/HTML rendered"))

    leaks = secret_in_tables(config.store.path) + secret_in_tables(snapshot)
    leaks += ["a log record"] if SECRET in logs.text else []
    leaks += ["stdout/stderr"] if SECRET in printed.getvalue() or SECRET in terminal else []
    stored = stored_response(config.store.path, echo_prompt)
    wrong = [] if stored == "you sent Bearer ***" else [f"stored response {short(stored)!r}"]
    out.append(check("endpoint echoes the key as the answer", wrong, "stored as 'you sent Bearer ***'",
                     ", ".join(leaks) or None))
    return out


def stored_response(store: Path, prompt: str) -> str | None:
    import duckdb

    with duckdb.connect(str(store), read_only=True) as con:
        row = con.execute("SELECT response_text FROM cells WHERE probe_text = ?", [prompt]).fetchone()
    return row[0] if row else None
