"""What every family shares: the Outcome of one fault, the child processes, the planted secret and the search for it."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from secrets import token_hex

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SECRET = f"sk-planted-{token_hex(12)}"  # fresh per run: nothing stored earlier can match it
KEY_ENV = "MMWATCH_RELIABILITY_KEY"


# --- outcomes ----------------------------------------------------------------------------------

@dataclass
class Outcome:
    """One fault thrown and what the run made of it."""

    fault: str
    survived: bool
    leaked: bool = False
    expected: str = ""  # set when it did not survive or leaked: what the right thing was
    got: str = ""  # ... and what happened


def check(fault: str, problems: Sequence[str], expected: str, leaked_in: str | None = None) -> Outcome:
    """An outcome that survived when `problems` is empty; `leaked_in` says where the secret was seen."""
    got = "; ".join(problems)
    if leaked_in is not None:
        got = (got + "; " if got else "") + f"the planted secret appeared in {leaked_in}"
    return Outcome(fault, survived=not problems, leaked=leaked_in is not None,
                   expected=expected if problems or leaked_in else "", got=got)


def short(text: str | None, limit: int = 240) -> str:
    """One line of at most `limit` characters, for failure details."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def squeeze(text: str) -> str:
    """Text without whitespace: rich wraps stderr at 80 columns, mid-phrase and mid-path."""
    return re.sub(r"\s+", "", text)


# --- processes ---------------------------------------------------------------------------------

_CHILDREN: set[subprocess.Popen[str]] = set()
_CHILDREN_LOCK = threading.RLock()  # re-entrant: `stop_children` also runs from a signal handler


def start_child(args: Sequence[str], cwd: Path, env: dict[str, str], out: Path) -> subprocess.Popen[str]:
    """A child process in its own session (a Ctrl-C on this script does not reach it), recorded so
    that `stop_children` ends it by its PID whatever happens; stdout and stderr go to `out`.*."""
    with (out.with_suffix(".out")).open("w") as stdout, (out.with_suffix(".err")).open("w") as stderr:
        child = subprocess.Popen(list(args), cwd=cwd, env=env, stdout=stdout, stderr=stderr, text=True,
                                 start_new_session=True)
    with _CHILDREN_LOCK:
        _CHILDREN.add(child)
    return child


def finish_child(child: subprocess.Popen[str], timeout_s: float) -> int | None:
    """The child's exit code, or None if it had to be killed after `timeout_s`."""
    try:
        return child.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        return None
    finally:
        with _CHILDREN_LOCK:
            _CHILDREN.discard(child)


def stop_children() -> None:
    """Kill (by PID) every child still running: nothing this script started outlives it."""
    with _CHILDREN_LOCK:
        children = list(_CHILDREN)
        _CHILDREN.clear()
    for child in children:
        if child.poll() is None:
            child.kill()
            child.wait()


def stop_on_signal(signum: int, frame: object) -> None:
    """SIGINT / SIGTERM on this script: end the children first (the threads waiting on them then
    return), then unwind, so that servers and temporary folders are closed too."""
    stop_children()
    raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")


def child_env(tmp: Path) -> dict[str, str]:
    """The environment of an `mmwatch` child: the planted key, Prefect local and inside `tmp`."""
    return {**os.environ, KEY_ENV: SECRET, "PREFECT_API_URL": "", "PREFECT_HOME": str(tmp / "prefect")}


def mmwatch_run(config: Path, cwd: Path, out: Path, timeout_s: float = 180) -> tuple[int | None, str, str]:
    """`mmwatch run -c config` to the end: (exit code or None on timeout, stdout, stderr)."""
    child = start_child([PYTHON, "-m", "mmwatch.cli", "run", "-c", str(config)], cwd, child_env(cwd), out)
    code = finish_child(child, timeout_s)
    return code, out.with_suffix(".out").read_text(errors="replace"), out.with_suffix(".err").read_text(errors="replace")


# --- looking for the secret --------------------------------------------------------------------

class Captured(logging.Handler):
    """Every log record, formatted with its exception, to look for the secret in."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - a record that cannot format is kept by its raw message
            self.lines.append(f"{record.name} {record.msg!r} {record.args!r}")

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


_CHATTY = ("openai", "httpx", "httpcore", "httpx2", "httpcore2", "mmwatch", "adapters", "storage")


@contextlib.contextmanager
def capture_logs() -> Iterator[Captured]:
    """Root logger at DEBUG (and the SDK's loggers, which set their own levels) into a Captured."""
    handler, root = Captured(), logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in _CHATTY}
    root_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(root_level)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def secret_in_tables(path: Path) -> list[str]:
    """`table.column` of every text cell of a DuckDB file that holds the secret (read-only)."""
    import duckdb

    if not path.exists():
        return []
    found = []
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                              "WHERE table_schema = 'main'").fetchall()
        for table, column in columns:
            hits = con.execute(f'SELECT count(*) FROM "{table}" WHERE CAST("{column}" AS VARCHAR) LIKE ?',
                               [f"%{SECRET}%"]).fetchone()
            if hits and hits[0]:
                found.append(f"{path.name}:{table}.{column}")
    return found
