"""Family 3, bad configs: each through `mmwatch run -c` as a child process, which must refuse it before any work."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .common import SECRET, Outcome, check, mmwatch_run, short, squeeze

@dataclass(frozen=True)
class BadConfig:
    fault: str
    text: str | bytes  # the config file; {d} is the case's folder
    says: tuple[str, ...]  # what stderr must name
    store_garbage: bool = False  # write garbage to the store file first


_STORE = "store: {{path: {d}/db.duckdb, artifacts: {d}/art, snapshot: {d}/snap.duckdb}}\n"
_MODEL = "models: [{{lineage: reference/refuse-all, adapter: reference, params: {{behaviour: refuse-all}}}}]\n"
_BENCH = "benchmarks: [{{name: mmwatch-mini, limit: 2}}]\n"
_JUDGES = "judges: [{{name: refusal-keywords}}, {{name: exact-match}}]\n"


def _table(params: str) -> str:
    return _STORE + _MODEL + "benchmarks: [{{name: table, params: {{" + params + "}}}}]\n" + _JUDGES


BAD_CONFIGS = (
    BadConfig("missing benchmark file", _table("path: {d}/nope.csv, kind: harmful"), ("benchmarks[0]", "nope.csv")),
    BadConfig("a mapped column missing", _table("path: {d}/set.csv, columns: {{text: prompt}}, kind: harmful"),
              ("benchmarks[0]", "prompt")),
    BadConfig("unknown column-mapping field", _table("path: {d}/set.csv, columns: {{textt: text}}, kind: harmful"),
              ("benchmarks[0]", "textt")),
    BadConfig("unknown jailbreak template", _STORE + _MODEL + _BENCH + _JUDGES
              + "attacks: [{{name: jailbreak, params: {{template: nope}}}}]\n", ("attacks[0]", "nope")),
    BadConfig("table benchmark without path", _STORE + _MODEL + "benchmarks: [{{name: table}}]\n" + _JUDGES,
              ("benchmarks[0]", "path")),
    BadConfig("a path param given as a number", _table("path: 12"), ("benchmarks[0]", "path")),
    BadConfig("concurrency: eight (openai)", _STORE + _BENCH + _JUDGES + "models: [{{lineage: api/m, adapter: openai, "
              "params: {{model: m, base_url: 'http://127.0.0.1:9/v1', concurrency: eight}}}}]\n",
              ("models[0]", "concurrency")),
    BadConfig("unknown adapter parameter (a key pasted in)", _STORE + _BENCH + _JUDGES + "models: [{{lineage: api/m, "
              "adapter: openai, params: {{model: m, api_key: " + SECRET + "}}}}]\n", ("models[0]", "api_key")),
    BadConfig("unknown plugin name", _STORE + _MODEL + _BENCH + _JUDGES + "attacks: [{{name: figstepp}}]\n",
              ("attacks[0]", "figstepp")),
    BadConfig("non-UTF-8 config file", b"name: caf\xe9\n" + (_STORE + _MODEL + _BENCH + _JUDGES).encode(),
              ("c.yaml", "UTF-8")),
    BadConfig("YAML syntax error with [brackets]", _STORE + "name: [bold red]oops[/] here\n" + _BENCH + _JUDGES,
              ("c.yaml", "[bold red]")),
    BadConfig("corrupt DuckDB store file", _STORE + _MODEL + _BENCH + _JUDGES, ("not run", "db.duckdb"),
              store_garbage=True),
)
MAX_ERR_LINES = 15


def bad_configs(tmp: Path) -> list[Outcome]:
    """Each config through `mmwatch run -c` as a child process, two at a time: refused before any
    work with exit 2, a short stderr naming the field or file, no traceback, no store written."""
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda i_case: bad_config(tmp / f"case-{i_case[0]}", i_case[1]), enumerate(BAD_CONFIGS)))


def bad_config(folder: Path, case: BadConfig) -> Outcome:
    folder.mkdir(parents=True)
    (folder / "set.csv").write_text("id,text,kind\n1,What is shown?,harmful\n")
    config = folder / "c.yaml"
    if isinstance(case.text, bytes):
        config.write_bytes(case.text.replace(b"{d}", str(folder).encode()).replace(b"{{", b"{").replace(b"}}", b"}"))
    else:
        config.write_text(case.text.format(d=folder))
    store = folder / "db.duckdb"
    garbage = b"this is not a DuckDB file\n" * 40
    if case.store_garbage:
        store.write_bytes(garbage)
    code, stdout, stderr = mmwatch_run(config, folder, folder / "run", timeout_s=120)
    lines = [line for line in stderr.splitlines() if line.strip()]
    wrong = [] if code == 2 else [f"exit code {code}, expected 2"]
    wrong += [f"{len(lines)} stderr lines (at most {MAX_ERR_LINES})"] if len(lines) > MAX_ERR_LINES else []
    wrong += ["a Traceback"] if "Traceback" in stderr + stdout else []
    wrong += [f"stderr does not name {s!r}" for s in case.says if squeeze(s) not in squeeze(stderr)]
    if case.store_garbage:
        wrong += [] if store.read_bytes() == garbage else ["the corrupt store file was changed"]
    elif store.exists():
        wrong.append("a store file was written (work started before the refusal)")
    if wrong:
        wrong.append(f"stderr: {short(stderr, 400)!r}")
    leak = "stderr/stdout" if SECRET in stdout + stderr else None
    return check(case.fault, wrong, f"exit 2, <= {MAX_ERR_LINES} lines naming {', '.join(case.says)}", leak)
