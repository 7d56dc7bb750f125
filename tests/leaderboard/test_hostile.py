"""Strings from the snapshot are data, never markup: hostile names on every page and in the terminal.

Every model id, lineage, label, attack, defense, category, sample id, prompt, response, error,
judge, run id and the title carry PAYLOAD: markdown images and links, raw HTML, emphasis,
Streamlit directives, LaTeX, emoji and icon shortcodes, bare autolinks and rich markup. Where
Streamlit reads markdown, the body must parse (CommonMark, as Streamlit's remark does) to no
link, image or HTML, trip none of the patterns Streamlit matches on the parsed text, and still
read as the whole payload; plain-text sinks (dataframes, selectbox options) hold it verbatim.
"""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from markdown_it import MarkdownIt
from rich.console import Console
from streamlit.testing.v1 import AppTest

from leaderboard.terminal import leaderboard_table
from leaderboard.text import WORD_JOINER, md, term
from prefect_servers import free_port, wait_healthy

PAGES = Path(__file__).resolve().parents[2] / "leaderboard"
TIMEOUT = 60
MARKUP = (  # each renders as something other than itself in Streamlit markdown
    "![px](http://127.0.0.1:9/pixel)", "[click](javascript:alert(1))", "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>", "**bold**", "_it_", "~~del~~", "`tick`", ":red[x]", ":blue-badge[b]",
    "$x^2$", ":smile:", ":+1:", ":material/home:", ":streamlit:", "www.example.com", "a@example.com",
    "https://example.com", "a -> b", "&lt;", "[link=http://x]y[/link]",
)
# rich markup (as are "[link=...]" and the emoji code ":smile:" above), and characters that are
# markdown only at the start of a line or in a table
PAYLOAD = " ".join((*MARKUP, "[bold red]rich[/]", "| c |", "\\", "# {x}"))
FIELDS = ("title", "model_id", "lineage", "attack", "defense", "category", "sample", "prompt",
          "response", "error", "judge", "run", "published", "config", "plan", "alert")
H = {field: f"{field} {PAYLOAD}" for field in FIELDS}
LABELS = {model_id: f"label-{i} {PAYLOAD}" for i, model_id in enumerate(
    ("llava-tiny@a1b2c3d", "llava-tiny@e4f5a6b", "qwen2-vl-mini@v1", "qwen2-vl-mini@v2"))}
HOSTILE_MODEL = LABELS["llava-tiny@e4f5a6b"]  # has the examples and the alert
SAFEST = LABELS["qwen2-vl-mini@v2"]

_RENAMES = (  # (tables, column, old value, new value)
    (("leaderboard", "asr_by_attack", "asr_by_category", "refusal_rates", "alerts", "examples"),
     "model_id", "llava-tiny@e4f5a6b", H["model_id"]),
    (("leaderboard", "alerts"), "lineage", "llava-tiny", H["lineage"]),
    (("asr_by_attack", "asr_by_category", "refusal_rates", "alerts", "examples"), "attack", "figstep", H["attack"]),
    (("asr_by_attack", "examples"), "defense", "safety-system-prompt", H["defense"]),
    (("asr_by_category", "examples"), "category", "Hate Speech", H["category"]),
    (("examples",), "sample_id", "safebench:1-1", H["sample"]),
    (("examples",), "error", "timeout after 30 s", H["error"]),
    (("examples",), "judge", "refusal-keywords", H["judge"]),
    (("alerts",), "alert_id", "alert-1", H["alert"]),
    (("runs",), "run_id", "run-20261126", H["run"]),
)
_META = {"run_id": "run", "published_at": "published", "safety_judge": "judge", "utility_judge": "judge",
         "target_judge": "judge", "config_hash": "config", "plan_id": "plan"}


def build_hostile(path: Path, build: Callable[..., Path]) -> Path:
    """The conftest snapshot (`build` is its builder), responses published, PAYLOAD in every string."""
    build(path, show_responses=True, title=H["title"])
    with duckdb.connect(str(path)) as con:
        for model_id, label in LABELS.items():
            con.execute("UPDATE leaderboard SET label = ? WHERE model_id = ?", [label, model_id])
        for tables, column, old, new in _RENAMES:
            for table in tables:
                con.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", [new, old])
        con.execute("UPDATE examples SET prompt = ? || chr(10) || chr(10) || '# not a heading'", [H["prompt"]])
        con.execute("UPDATE examples SET response_text = ? WHERE response_text IS NOT NULL", [H["response"]])
        for key, field in _META.items():
            con.execute("UPDATE meta SET value = ? WHERE key = ?", [H[field], key])
        con.execute("UPDATE runs SET status = ?, code_version = ?", [H["run"], H["config"]])
    return path


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_snapshot: Callable[..., Path]) -> Path:
    """The hostile snapshot, which $MMWATCH_SNAPSHOT points at."""
    path = build_hostile(tmp_path / "hostile.duckdb", make_snapshot)
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(path))
    return path


# --- what Streamlit's markdown would make of a body ------------------------------------------

_PARSER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_LIVE = {"link_open", "image", "html_inline", "html_block"}
# Patterns Streamlit (remark-emoji, its icon/logo/typography plugins, remark-gfm autolinks) finds in
# text after escapes are resolved: a backslash does not stop them.
_ON_TEXT = re.compile(
    r":\+1:|:-1:|:[\w-]+:|https?://|www(?=\.)|[-.\w+]+@[-\w]+(?:\.[-\w]+)+|(?:^|\s)(?:<->|->|<-|--|>=|<=|~=)(?:\s|$)",
    re.ASCII,
)
# In the source outside backslash escapes: `$` turns on LaTeX, `:name` starts a directive.
_ON_SOURCE = re.compile(r"\$|:[A-Za-z+/-]")


def _parsed(body: str) -> tuple[str, list[str], list[str]]:
    """What a body reads as (word joiners dropped), its live token types, and its runs of text."""
    read, live, runs = [], [], [""]
    for block in _PARSER.parse(body):
        live += [block.type] if block.type in _LIVE else []
        for tok in block.children or []:
            live += [tok.type] if tok.type in _LIVE else []
            plain = tok.type in ("text", "text_special")
            if plain:
                runs[-1] += tok.content
            else:
                runs.append("")
            read.append(tok.content if plain or tok.type == "code_inline" else "\n" if "break" in tok.type else "")
        read.append("\n" if block.type == "paragraph_close" else "")
        runs.append("")
    return "".join(read).replace(WORD_JOINER, "").strip(), live, runs


def _assert_inert(where: str, body: str) -> str:
    """Fail if `body` would render a link, image, HTML, LaTeX, directive, emoji or autolink; return its text."""
    read, live, runs = _parsed(body)
    assert not live, f"{where}: {live} in {body!r}"
    assert ":material/" not in body, f"{where}: Streamlit rewrites :material/ before parsing: {body!r}"
    outside = re.sub(r"\\.|(`+)[^`]+?\1", "", body)
    assert not _ON_SOURCE.search(outside), f"{where}: {_ON_SOURCE.search(outside)} in {body!r}"
    hits = [m.group() for run in runs for m in _ON_TEXT.finditer(run)]
    assert not hits, f"{where}: {hits} in {body!r}"
    return read


def _markdown(at: AppTest) -> Iterator[tuple[str, str]]:
    """(element, body) for every string of the page that Streamlit renders as markdown."""
    for node in at:
        proto = getattr(node, "proto", None)
        for name in ("body", "label", "help", "delta"):
            value = getattr(proto, name, None) if proto is not None else None
            if isinstance(value, str) and value:
                assert not getattr(proto, "allow_html", False), f"{node.type} allows HTML"
                yield f"{node.type}.{name}", value


def _run(at: AppTest) -> dict[str, list[str]]:
    """Check a page's every markdown body; return what each kind of element reads as."""
    assert not at.exception, [e.value for e in at.exception]
    read: dict[str, list[str]] = {}
    for where, body in _markdown(at):
        read.setdefault(where, []).append(_assert_inert(where, body))
    return read


def _page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / "pages" / f"{name}.py"), default_timeout=TIMEOUT).run()


def _select(at: AppTest, label: str, value: str) -> AppTest:
    box = next(s for s in at.selectbox if s.label == label)
    assert value in box.options, f"{label}: selectbox options are plain text and must hold it verbatim"
    box.set_value(value)
    return at.run()


def _cells(at: AppTest) -> set[str]:
    return {str(v) for df in at.dataframe for v in df.value.to_numpy().ravel()}


# --- the helper on its own -------------------------------------------------------------------

@pytest.mark.parametrize("value", [PAYLOAD, "a -> b", "-> x", "x <=", "user@host.org", "WWW.EXAMPLE.ORG",
                                   "ftp://h", "1. not a list", "=== not a heading", "\\`"])
def test_md_reads_as_itself_and_renders_nothing(value: str) -> None:
    assert _assert_inert("md", md(value)) == value


def test_md_leaves_plain_words_alone() -> None:
    assert md("Test leaderboard 2026") == "Test leaderboard 2026"


@pytest.mark.parametrize("piece", MARKUP)
def test_checker_catches_each_piece_unescaped(piece: str) -> None:
    """The checks can fail: raw, each piece renders something or does not read as itself."""
    try:
        read = _assert_inert("raw", f"x {piece} y")
    except AssertionError:
        return
    assert read != f"x {piece} y", "the checker would miss this piece"


# --- the pages -------------------------------------------------------------------------------

def test_ranking_escapes_title_caption_and_metric(hostile: Path) -> None:
    at = AppTest.from_file(str(PAGES / "app.py"), default_timeout=TIMEOUT).run()
    read = _run(at)
    assert read["title.body"] == [H["title"]]
    caption = read["caption.body"][0]
    for field in ("published", "run", "judge", "config", "plan"):
        assert H[field] in caption, field
    assert SAFEST in read["metric.body"]
    assert set(at.dataframe[0].value["Model"]) == set(LABELS.values())
    assert {H["lineage"]} <= set(at.dataframe[0].value["Lineage"])


def test_attacks_page_with_hostile_names(hostile: Path) -> None:
    at = _page("attacks")
    _run(at)
    at = _select(at, "Defense", H["defense"])
    _run(at)
    at = _select(at, "Model", HOSTILE_MODEL)
    _run(at)
    assert {H["attack"], HOSTILE_MODEL, H["defense"]} <= _cells(at)
    assert len(at.get("vega_lite_chart")) == 3


def test_history_page_with_hostile_names(hostile: Path) -> None:
    at = _page("history")
    _run(at)
    assert {HOSTILE_MODEL, H["lineage"], H["attack"], H["run"]} <= _cells(at)
    box = next(s for s in at.selectbox if s.label == "Items behind an alert")
    assert box.options == [f"{HOSTILE_MODEL} vs {LABELS['llava-tiny@a1b2c3d']} · {H['attack']} / none"]
    _run(_select(at, "Lineage", H["lineage"]))


def test_samples_page_with_hostile_names(hostile: Path) -> None:
    at = _select(_select(_page("samples"), "Model", HOSTILE_MODEL), "Attack", H["attack"])
    read = _run(at)
    line = next(text for text in read["markdown.body"] if "samples" in text)
    assert f"for {HOSTILE_MODEL} under attack {H['attack']}, defense none" in line
    at = _select(at, "Defense", H["defense"])
    read = _run(at)
    line = next(text for text in read["markdown.body"] if "samples" in text)
    assert line.endswith(f"defense {H['defense']}")
    at = _select(at, "Defense", "none")
    cells = _cells(at)
    assert {H["sample"], H["category"], H["judge"], H["response"], f"⚠ error: {H['error']}"} <= cells
    assert f"{H['prompt']}\n\n# not a heading" in cells


@pytest.mark.parametrize("name", ("ranking", "attacks", "history", "samples"))
def test_error_text_is_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    folder = tmp_path / "![px](x) [click](javascript:alert(1)) <img src=x onerror=alert(1)> :red[x] $x$"
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(folder / "absent.duckdb"))
    at = _page(name)
    read = _run(at)
    assert len(at.error) == 1
    assert str(folder / "absent.duckdb") in read["error.body"][0]


# --- the terminal ----------------------------------------------------------------------------

def test_terminal_table_prints_names_literally(hostile: Path) -> None:
    with duckdb.connect(str(hostile)) as con:  # an ANSI colour and an OSC 8 hyperlink in a lineage
        con.execute("UPDATE leaderboard SET lineage = lineage || ? WHERE model_id = 'qwen2-vl-mini@v1'",
                    ["\x1b[31mansi\x1b]8;;http://x\x1b\\osc"])
    console = Console(record=True, width=6000, file=io.StringIO(), force_terminal=True, color_system="truecolor")
    table = leaderboard_table(hostile)
    segments = list(console.render(table))
    console.print(table)
    out = console.export_text()
    for literal in (PAYLOAD, H["title"], H["config"], H["judge"], H["lineage"], f"ASR {H['attack']}", SAFEST):
        assert literal in out, literal
    assert "\\x1b[31mansi\\x1b]8;;http://x\\x1b\\osc" in out
    assert "\x1b" not in "".join(s.text for s in segments)
    styles = [s.style for s in segments if s.style is not None]
    assert not [s for s in styles if s.link], "a link came from the data"
    assert not [s for s in styles if s.color is not None and s.color.name == "red"], "a style came from the data"


def test_term_never_parses_markup() -> None:
    text = term("[bold red]rich[/] :smile: [link=http://x]y[/link]")
    assert text.plain == "[bold red]rich[/] :smile: [link=http://x]y[/link]"
    assert not text.spans


# --- a real browser --------------------------------------------------------------------------

# An image, a link (other than the app's own), HTML from the data, LaTeX, a logo, an icon or an emoji.
_DRAWN = re.compile(r'<(img|a)\b[^>]*>|<script>alert|\sonerror="|katex|Streamlit logo|>home<|😄|👍|→')


@pytest.mark.slow
def test_browser_draws_hostile_names_as_text(tmp_path: Path, make_snapshot: Callable[..., Path]) -> None:
    """Streamlit's own front end in headless Chromium: what AppTest's protobufs cannot show."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (CI installs it with `apt-get install -y chromium`)")
    snapshot = build_hostile(tmp_path / "hostile.duckdb", make_snapshot)
    port, log = free_port(), tmp_path / "streamlit.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "leaderboard/app.py", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.port", str(port), "--server.address", "127.0.0.1"],
            cwd=PAGES.parent, env={**os.environ, "MMWATCH_SNAPSHOT": str(snapshot)}, stdout=sink,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", server, log, 90, "streamlit")
        for page, expect in (("", f"title {PAYLOAD}"), ("samples", f"for {HOSTILE_MODEL} under attack none")):
            read, drawn = _dom(chromium, f"http://127.0.0.1:{port}/{page}", tmp_path / "profile", expect)
            assert not drawn, f"/{page}: {drawn}"
            assert expect in read, f"/{page} does not read {expect!r}"
    finally:
        server.terminate()
        server.wait(timeout=15)


def _dom(chromium: str, url: str, profile: Path, expect: str) -> tuple[str, list[str]]:
    """What the page reads (tags stripped, entities and word joiners undone) and what it drew from
    the data, once it reads `expect` or drew something."""
    flags = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--disable-background-networking", "--no-first-run", "--virtual-time-budget=30000")
    read, drawn = "", []
    for _ in range(4):  # the first load after a start often shows only placeholders
        shutil.rmtree(profile, ignore_errors=True)
        dom = subprocess.run([chromium, *flags, f"--user-data-dir={profile}", "--dump-dom", url],
                             capture_output=True, text=True, timeout=150, check=False).stdout
        read = html.unescape(re.sub(r"<[^>]+>", "", dom)).replace(WORD_JOINER, "")
        drawn = [m.group() for m in _DRAWN.finditer(dom)
                 if not re.match(r'<a\b[^>]*href="(http://127\.0\.0\.1:\d+/|\./|#)', m.group())]
        if expect in read or drawn:
            break
    return read, drawn
