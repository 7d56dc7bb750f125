"""Strings from the snapshot are data, never markup: hostile names on every page and in the terminal.

Every string the snapshot holds (model ids, labels, lineages, revisions, attacks, defenses,
categories, benchmarks, sample ids, cell keys, prompts, system texts, responses, errors, judges,
verdicts, rationales, defense steps, alert ids and states, run ids, statuses, the meta) carries
PAYLOAD: markdown images and links, raw HTML, emphasis, Streamlit directives, LaTeX, emoji and icon
shortcodes, bare autolinks and rich markup. Where Streamlit reads markdown, the body must parse
(CommonMark, as Streamlit's remark does) to no link, image or HTML, trip none of the patterns
Streamlit matches on the parsed text, and still read as the whole payload; plain-text sinks
(dataframe cells, selectbox options, code blocks) hold it verbatim; and in a real browser the
pages read it as text and draw nothing from it.
"""

from __future__ import annotations

import html
import io
import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from markdown_it import MarkdownIt
from rich.console import Console
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Selectbox

from apptest_helpers import APP, PAGES, app, page
from browser import STREAMLIT_READY, chromium, streamlit
from leaderboard.terminal import leaderboard_table
from leaderboard.text import WORD_JOINER, md, term

MARKUP = (  # each renders as something other than itself in Streamlit markdown
    "![px](http://127.0.0.1:9/pixel)", "[click](javascript:alert(1))", "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>", "**bold**", "_it_", "~~del~~", "`tick`", ":red[x]", ":blue-badge[b]",
    "$x^2$", ":smile:", ":+1:", ":material/home:", ":streamlit:", "www.example.com", "a@example.com",
    "https://example.com", "a -> b", "&lt;", "[link=http://x]y[/link]",
)
# rich markup (as are "[link=...]" and the emoji code ":smile:" above), and characters that are
# markdown only at the start of a line or in a table
PAYLOAD = " ".join((*MARKUP, "[bold red]rich[/]", "| c |", "\\", "# {x}"))
FIELDS = ("model_id", "lineage", "revision", "verdict", "attack", "defense", "category", "benchmark", "sample",
          "cell", "error", "judge", "judge2", "alert", "state", "baseline_kind", "run", "status", "config", "plan",
          "prompt", "system", "response", "rationale", "step", "code", "message")
H = {field: f"{field} {PAYLOAD}" for field in FIELDS}
LABELS = {old: f"label-{i} {PAYLOAD}" for i, old in enumerate(
    ("checkpoint-100", "checkpoint-200", "qwen2-vl-mini v1", "qwen2-vl-mini v2"))}
HOSTILE_MODEL = LABELS["checkpoint-200"]  # llava-tiny@e4f5a6b: the examples and the alert
BASELINE = LABELS["checkpoint-100"]  # its predecessor
SAFEST = LABELS["qwen2-vl-mini v2"]
PROMPT = f"{H['prompt']}\n\n# not a heading"
ALERT = f"{HOSTILE_MODEL} vs {BASELINE} · {H['attack']} / none · asr"  # the alert, as the Alerts page names it
SECOND_BENCHMARK = "second-benchmark"

_MODEL = {"llava-tiny@e4f5a6b": H["model_id"]}
_RENAMES: dict[str, dict[str, str]] = {  # column: {old: new}, in every table of the snapshot with that column
    "model_id": _MODEL, "baseline_id": _MODEL, "lineage": {"llava-tiny": H["lineage"]},
    "revision": {"e4f5a6b": H["revision"]},
    "label": {**LABELS, "unsafe": H["verdict"]},  # the model labels (leaderboard, history) and a verdict's
    "attack": {"figstep": H["attack"]}, "defense": {"safety-system-prompt": H["defense"]},
    "category": {"Hate Speech": H["category"]}, "benchmark": {"safebench": H["benchmark"]},
    "sample_id": {"safebench:1-1": H["sample"]}, "cell_key": {"cell-0": H["cell"]},
    "error": {"timeout after 30 s": H["error"]},
    "judge": {"refusal-keywords": H["judge"], "llm-harmbench": H["judge2"]},
    "alert_id": {"alert-1": H["alert"]}, "state": {"new": H["state"]},
    "baseline_kind": {"predecessor": H["baseline_kind"]}, "run_id": {"run-20261126": H["run"]},
    "status": {"completed": H["status"]}, "config_hash": {"cfg1": H["config"]}, "plan_id": {"plan-1": H["plan"]},
}
_FILLS = {  # column: what every non-NULL value of it becomes, in every table
    "prompt": PROMPT, "system_text": H["system"], "response_text": H["response"], "rationale": H["rationale"],
    "code_version": H["code"], "message": H["message"],
    "defense_steps": json.dumps([{"defense": H["defense"], "kind": "draft", "text": H["step"]}]),
}
_META_KEPT = {"mode", "show_responses", "demo", "plan_cells"}  # parsed, not shown


def meta(key: str) -> str:
    """The hostile value of a meta key."""
    return f"{key} {PAYLOAD}"


def _set(column: str) -> tuple[str, list[str]]:
    """The SET clause (and its parameters) that makes one text column hostile, or '' where none applies."""
    col, renames = f'"{column}"', _RENAMES.get(column, {})
    if column in _FILLS:
        return f"{col} = CASE WHEN {col} IS NOT NULL THEN ? END", [_FILLS[column]]
    if renames:
        whens = " ".join("WHEN ? THEN ?" for _ in renames)
        return f"{col} = CASE {col} {whens} ELSE {col} END", [v for pair in renames.items() for v in pair]
    return "", []


def build_hostile(path: Path, build: Callable[..., Path]) -> Path:
    """The conftest snapshot (`build` is its builder) in operator mode, PAYLOAD in every string: each
    rename and fill applies to every table of the snapshot (information_schema) with that column."""
    build(path, show_responses=True, title=meta("title"))
    olds = {old for renames in _RENAMES.values() for old in renames}
    with duckdb.connect(str(path)) as con:
        text = con.execute("""SELECT table_name, list(column_name ORDER BY ordinal_position)
            FROM information_schema.columns
            JOIN information_schema.tables USING (table_catalog, table_schema, table_name)
            WHERE table_type = 'BASE TABLE' AND data_type IN ('VARCHAR', 'JSON') AND table_name <> 'meta'
            GROUP BY table_name""").fetchall()
        for table, columns in text:
            sets = [_set(column) for column in columns]
            if clauses := [sql for sql, _ in sets if sql]:
                con.execute(f'UPDATE "{table}" SET {", ".join(clauses)}', [p for _, ps in sets for p in ps])
            quoted = ", ".join(f'"{c}"' for c in columns)  # a value in a column no rename knows of: name it
            left = {v for row in con.execute(f'SELECT {quoted} FROM "{table}"').fetchall() for v in row} & olds
            assert not left, f"{table} ({columns}) still holds {left}: add its column to _RENAMES"
        keys = {k for (k,) in con.execute("SELECT key FROM meta").fetchall()} | {"store", "artifacts"}
        con.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, meta(k)) for k in keys - _META_KEPT])
        # a second benchmark, so that the Matrix page shows its benchmark picker
        con.execute(f"INSERT INTO asr_by_category SELECT * REPLACE ('{SECOND_BENCHMARK}' AS benchmark) "
                    "FROM asr_by_category")
    return path


_BUILT: dict[str, Path] = {}  # built once per process, copied for each test


@pytest.fixture
def hostile(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
            make_snapshot: Callable[..., Path]) -> Path:
    """A copy of the hostile snapshot, which $MMWATCH_SNAPSHOT points at."""
    if "snapshot" not in _BUILT:
        _BUILT["snapshot"] = build_hostile(tmp_path_factory.mktemp("hostile") / "hostile.duckdb", make_snapshot)
    path = Path(shutil.copy(_BUILT["snapshot"], tmp_path / "hostile.duckdb"))
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
        for name in ("body", "label", "help", "delta", "placeholder"):
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


def _box(at: AppTest, label: str) -> Selectbox[object]:
    return next(s for s in at.selectbox if s.label == label or s.label.startswith(f"{label} ("))


def _select(at: AppTest, label: str, value: object, shown: str | None = None) -> AppTest:
    """Choose `value`, which the selectbox must offer verbatim as `shown` (options are plain text)."""
    box = _box(at, label)
    if value is not None:
        assert (shown or str(value)) in box.options, f"{label}: {box.options}"
    box.set_value(value)
    return at.run()


def _cells(at: AppTest) -> set[str]:
    return {str(v) for df in at.dataframe for v in df.value.to_numpy().ravel()}


def _codes(at: AppTest) -> list[str]:
    return [c.value for c in at.code]


def _line(read: dict[str, list[str]], kind: str, part: str) -> str:
    return next(text for text in read.get(kind, []) if part in text)


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

def test_app_routes_to_the_overview(hostile: Path) -> None:
    read = _run(app())
    assert read["title.body"] == [meta("title")]


def test_overview(hostile: Path) -> None:
    at = page("overview")
    read = _run(at)
    assert read["title.body"] == [meta("title")]
    caption = read["caption.body"][0]
    for key in ("published_at", "run_id", "safety_judge", "utility_judge", "target_judge", "config_hash",
                "plan_id", "snapshot_version"):
        assert meta(key) in caption, key
    assert SAFEST in read["metric.body"]
    cells = _cells(at)  # moves, new revisions, each lineage's newest, the alerts raised
    assert {BASELINE, HOSTILE_MODEL, SAFEST, H["lineage"], H["revision"], H["state"]} <= cells
    assert f"attack {H['attack']} · defense none" in cells


def test_ranking_filters_and_search(hostile: Path) -> None:
    at = page("ranking")
    read = _run(at)
    assert meta("run_id") in read["caption.body"][0]
    assert SAFEST in read["metric.body"]
    assert set(at.dataframe[0].value["Model"]) == set(LABELS.values())
    assert {H["lineage"], H["revision"]} <= _cells(at)
    at = _select(at, "Benchmark", H["benchmark"])
    at = _select(at, "Attack", H["attack"])
    at = _select(at, "Defense", H["defense"])
    assert f"{H['judge']} (primary)" in _box(at, "Judge").options
    at = _select(at, "Judge", H["judge2"])
    pools = _line(_run(at), "caption.body", "ASR pools")
    assert pools.startswith(f"Judged by {H['judge2']}. ASR pools benchmark {H['benchmark']} and attack "
                            f"{H['attack']}, under defense {H['defense']}, each benchmark x attack weighing the same.")
    assert set(at.dataframe[0].value["Model"]) == set(LABELS.values())
    at.text_input[0].input(H["revision"]).run()
    _run(at)
    assert list(at.dataframe[0].value["Model"]) == [HOSTILE_MODEL]


def test_frontier(hostile: Path) -> None:
    at = page("frontier")
    read = _run(at)
    assert any(f"judged by {meta('safety_judge')}." in text for text in read["caption.body"])
    assert set(LABELS.values()) | {H["lineage"], H["revision"]} <= _cells(at)
    assert at.get("vega_lite_chart")


def test_trends_lineage(hostile: Path) -> None:
    at = _select(page("trends"), "Lineage", H["lineage"])
    _run(at)
    assert len(at.get("vega_lite_chart")) == 2  # over nights and over revisions, each with its alert
    _run(_select(at, "Lineage", "qwen2-vl-mini"))


def test_matrix_selectors(hostile: Path) -> None:
    at = _select(page("matrix"), "Defense", H["defense"])
    _run(at)
    at = _select(at, "Model", HOSTILE_MODEL)
    _run(at)
    assert _box(at, "Benchmark").options == [H["benchmark"], SECOND_BENCHMARK]
    at = _select(at, "Benchmark", H["benchmark"])
    assert _line(_run(at), "caption.body", "Categories of").startswith(f"Categories of {H['benchmark']};")
    assert {HOSTILE_MODEL, H["attack"], H["defense"]} <= _cells(at)  # refusal rates, defense deltas


def test_samples_filters(hostile: Path) -> None:
    at = page("samples")
    _run(at)
    at = _select(_select(at, "Model", HOSTILE_MODEL), "Attack", H["attack"])
    said = _line(_run(at), "markdown.body", "samples")
    assert f"samples for {HOSTILE_MODEL} under attack {H['attack']}, defense any" in said
    at = _select(at, "Defense", H["defense"])
    assert _line(_run(at), "markdown.body", "samples").endswith(f"defense {H['defense']}")
    at = _select(at, "Defense", None)
    cells = _cells(at)
    assert {H["sample"], H["category"], H["verdict"], H["response"], f"⚠ error: {H['error']}", PROMPT} <= cells
    at = _select(at, "Category", H["category"])
    _run(at)
    assert set(at.dataframe[0].value["Category"]) == {H["category"]}
    at = _select(page("samples"), "Alert", H["alert"],
                 f"{HOSTILE_MODEL} vs {BASELINE} · {H['attack']} / none ({H['state']})")
    _run(at)
    assert list(at.dataframe[0].value["Sample"]) == [H["sample"]]
    next(t for t in at.text_input if t.label == "Search prompt or item id").input(H["sample"]).run()
    _run(at)
    assert list(at.dataframe[0].value["Sample"]) == [H["sample"]]


def test_samples_item_in_full(hostile: Path) -> None:
    at = _select(page("samples"), "Item", H["cell"], f"{H['sample']} · {HOSTILE_MODEL} · {H['attack']} / none")
    read = _run(at)
    heads = read["markdown.body"]
    assert f"This revision: {HOSTILE_MODEL} · {H['sample']} · {H['attack']} / none" in heads
    assert f"Predecessor: {BASELINE} · {H['sample']} · {H['attack']} / none" in heads
    assert f"Verdict {H['verdict']}, counts as success (judge {H['judge']})" in heads
    assert {PROMPT, H["response"]} <= set(_codes(at))
    verdicts = at.dataframe[1].value
    assert set(verdicts["Judge"]) == {H["judge"], H["judge2"]} and set(verdicts["Rationale"]) == {H["rationale"]}
    at = _select(at, "Item", "cell-3", f"{H['sample']} · {HOSTILE_MODEL} · {H['attack']} / {H['defense']}")
    read = _run(at)
    assert f"{H['defense']} · draft" in read["markdown.body"]
    assert {H["system"], PROMPT, H["step"], H["response"]} <= set(_codes(at))
    at = _select(at, "Item", "cell-2", f"safebench:2-2 · {HOSTILE_MODEL} · {H['attack']} / none")  # failed
    _run(at)
    assert f"⚠ error: {H['error']}" in _codes(at)


def test_alerts_picker_and_items(hostile: Path) -> None:
    at = page("alerts")
    _run(at)
    assert {H["lineage"], HOSTILE_MODEL, BASELINE, H["baseline_kind"], H["attack"], H["state"]} <= _cells(at)
    assert H["state"] in next(m for m in at.multiselect if m.label == "State").options
    at = _select(at, "Lineage", H["lineage"])
    at = _select(at, "Items behind an alert", H["alert"], ALERT)
    _run(at)
    items = at.dataframe[1].value
    assert [list(items[col]) for col in ("Item", "Request", "After")] == [[H["sample"]], [PROMPT], [H["verdict"]]]


def test_label_queue_item(hostile: Path) -> None:
    at = page("label")
    read = _run(at)
    assert f"Labels go to {Path(meta('store'))} (source leaderboard)" in read["caption.body"][0]
    assert _box(at, "Item").value == H["cell"]  # the judges disagree on it: first
    head = f"{HOSTILE_MODEL} · {H['sample']} · harmful · Illegal Activity · {H['attack']} / none"
    assert head in read["markdown.body"]
    assert {PROMPT, H["response"]} <= set(_codes(at))
    verdicts = at.dataframe[0].value
    assert set(verdicts["Judge"]) == {H["judge"], H["judge2"]} and set(verdicts["Rationale"]) == {H["rationale"]}
    assert H["verdict"] in set(verdicts["Label"])
    at = _select(at, "Item", "cell-3", f"{H['sample']} · {HOSTILE_MODEL} · {H['attack']} / {H['defense']}")
    _run(at)
    assert H["system"] in _codes(at)
    at.text_input(key="labeller").input("ann").run()
    at.button(key="label-unsafe").click().run()  # the hostile store does not exist: the warning names it
    warning = _line(_run(at), "warning.body", "Not saved")
    assert f"the primary store {Path(meta('store'))} that this snapshot names does not exist here" in warning


def test_runs(hostile: Path) -> None:
    at = page("runs")
    _run(at)
    assert {H["run"], H["status"], H["code"], H["config"], H["plan"], H["message"]} <= _cells(at)


@pytest.mark.parametrize("name", PAGES)
def test_error_text_is_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    folder = tmp_path / "![px](x) [click](javascript:alert(1)) <img src=x onerror=alert(1)> :red[x] $x$"
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(folder / "absent.duckdb"))
    at = page(name)
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
    for literal in (PAYLOAD, meta("title"), meta("config_hash"), meta("safety_judge"), H["lineage"],
                    H["revision"], f"ASR {H['attack']}", SAFEST):
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

_TAG = re.compile(r"""<([a-zA-Z][\w-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_ATTR = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")  # a quoted value is one token
_TARGETS = {"href", "xlink:href", "src", "srcset", "srcdoc", "data", "action", "formaction", "poster"}
# where PAYLOAD points: its pixel, javascript:, <img src=x>, the autolinks and the rich [link=http://x]
_PAYLOAD_TARGET = re.compile(r"127\.0\.0\.1:9/|javascript:|example\.com|mailto:|^(?:https?://)?x/?$", re.I)


def _drawn(dom: str) -> list[str]:
    """Elements of a page's HTML drawn from the data: a link, image, frame or form whose target is one of
    PAYLOAD's or alerts, an inline event handler, a script that alerts, LaTeX; text (`&lt;img`) is none."""
    found = []
    for m in _TAG.finditer(dom):
        attrs = {name.lower(): html.unescape(value[1:-1] if value[:1] in "\"'" else value)
                 for name, value in _ATTR.findall(m.group(2))}
        targets = [value for name, value in attrs.items() if name in _TARGETS]
        if (any(_PAYLOAD_TARGET.search(t) or "alert(" in t for t in targets) or any(n.startswith("on") for n in attrs)
                or "katex" in attrs.get("class", "")):
            found.append(m.group()[:200])
    found += re.findall(r"<script\b[^>]*>[^<]*alert\(", dom)
    return found


@pytest.mark.parametrize(("dom", "expect"), [
    ('<img src="x" onerror="alert(1)">', True), ('<a href="javascript:alert(1)">x</a>', True),
    ('<img src="http://127.0.0.1:9/pixel">', True), ("<a href='http://www.example.com'>", True),
    ("<script>alert(1)</script>", True), ('<span class="katex">x</span>', True),
    ('<div title="<img src=x onerror=alert(1)>">&lt;img src=x onerror=alert(1)&gt;</div>', False),
    ('<a href="http://127.0.0.1:8501/samples">Samples</a><img src="/media/abc.png">', False),
])
def test_drawn_finds_what_the_data_drew(dom: str, expect: bool) -> None:
    assert bool(_drawn(dom)) is expect


# What a visitor reads: the text, and the values of inputs (a selectbox shows its choice in one).
_READ = """document.body.innerText + '\\n' + Array.from(document.querySelectorAll('input, textarea'))
    .map(e => e.value).join('\\n')"""
_BROWSER_READS = {  # page: what it must read as text (markdown on overview and samples, a choice elsewhere)
    "overview": (f"title {PAYLOAD}",),
    "samples": tuple(f"This revision: {label} · " for label in LABELS.values()),
    "alerts": (ALERT,),
    "trends": (H["lineage"],),
}


@pytest.mark.slow
def test_browser_reads_hostile_names_as_text(tmp_path: Path, hostile: Path) -> None:
    """Streamlit's own front end in headless Chromium: what AppTest's protobufs cannot show."""
    if shutil.which("chromium") is None and shutil.which("chromium-browser") is None:
        pytest.skip("chromium is not installed (CI installs it with `apt-get install -y chromium`)")
    log = tmp_path / "streamlit.log"
    with streamlit(hostile, log) as url, chromium(tmp_path / "profile") as browser:
        for name, expect in _BROWSER_READS.items():
            browser.open(f"{url}/{'' if name == 'overview' else name}", ready=STREAMLIT_READY, timeout=90)
            read = str(browser.evaluate(_READ)).replace(WORD_JOINER, "")
            assert any(e in read for e in expect), f"{name} does not read {expect[0]!r}: {read[:1500]!r}"
            assert PAYLOAD in read
            drawn = _drawn(browser.html())
            assert not drawn, f"{name} drew from the data: {drawn}"
    assert "Traceback" not in log.read_text()
