"""Run the families of faults and print the table: `python -m benchmarks.reliability [--write-readme] [--family NAME ...]`.

`--write-readme` replaces the table between `<!-- reliability:start -->` and
`<!-- reliability:end -->` in README.md (the markers must already be there). Exits 1 if a fault
did not survive or leaked.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .api_faults import api_faults
from .common import KEY_ENV, REPO, SECRET, Outcome, short, stop_children, stop_on_signal
from .configs import bad_configs
from .inputs import bad_inputs
from .interrupts import interrupted_runs
from .names import hostile_names

README = REPO / "README.md"
START, END = "<!-- reliability:start -->", "<!-- reliability:end -->"
COMMAND = "python -m benchmarks.reliability"


@dataclass(frozen=True)
class Family:
    """A group of faults driven by one function in a fresh temporary folder."""

    name: str
    handled: str  # the README's "how it is handled" column
    run: Callable[[Path], list[Outcome]]


@dataclass
class Result:
    family: Family
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0


FAMILIES = (
    Family("API faults", "transient kinds (429, 5xx, bad body, timeout, dropped or refused connection) retried with "
           "backoff, the rest at once; then one error row per probe naming probe, attempts and kind; the key "
           "scrubbed from answers, errors and logs", api_faults),
    Family("bad benchmark inputs", "a bad row costs that row: a problem `file:line: field: why`; image paths must "
           "resolve inside the benchmark folder, sizes read from the header before decoding", bad_inputs),
    Family("bad configs", "refused before any work: exit 2, a few lines naming the file and field, no traceback",
           bad_configs),
    Family("hostile names", "names are data: escaped for Streamlit markdown (`leaderboard/text.py`), rich `Text` in "
           "the terminal", hostile_names),
    Family("interrupted runs", "SIGINT / SIGTERM: exit 130 / 143, shards ingested, run row `interrupted`; after "
           "SIGKILL the next run marks it and ingests its parts; no cell stored twice; SIGKILL while publishing "
           "(twice): the snapshot is written aside and renamed when whole, so it stays the one before, and the row "
           "is never `completed`", interrupted_runs),
)


def run_family(family: Family, root: Path) -> Result:
    """The family's outcomes; a crash of the harness or of the product is one outcome that did not survive."""
    start = time.perf_counter()
    folder = root / re.sub(r"\W+", "-", family.name)
    folder.mkdir()
    try:
        outcomes = family.run(folder)
    except Exception as exc:  # noqa: BLE001 - reported as a failure with its traceback's last lines
        tail = " | ".join(traceback.format_exception(exc)[-3:])
        outcomes = [Outcome("(the family itself)", survived=False, expected="the family runs to the end",
                            got=short(f"{type(exc).__name__}: {exc} | {tail}", 600))]
    return Result(family, outcomes, time.perf_counter() - start)


def table(results: Sequence[Result]) -> str:
    lines = ["| family | faults tried | survived | leaked | how it is handled |", "| --- | ---: | ---: | ---: | --- |"]
    for r in results:
        tried, survived = len(r.outcomes), sum(o.survived for o in r.outcomes)
        leaked = sum(o.leaked for o in r.outcomes)
        lines.append(f"| {r.family.name} | {tried} | {survived} | {leaked} | {r.family.handled} |")
    return "\n".join(lines)


def failures(results: Sequence[Result]) -> list[str]:
    return [f"- {r.family.name} / {o.fault}: expected {o.expected}; got {o.got}"
            for r in results for o in r.outcomes if not o.survived or o.leaked]


def write_readme(text: str) -> None:
    """Replace what lies between the markers; the markers are placed by hand, once."""
    readme = README.read_text(encoding="utf-8")
    if readme.count(START) != 1 or readme.count(END) != 1 or readme.index(START) > readme.index(END):
        raise SystemExit(f"{README}: expected one {START} before one {END}")
    head, rest = readme.split(START)
    _, tail = rest.split(END)
    README.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description="Reliability: hostile inputs and faults thrown at "
                                     "the real code, and what became of each.")
    parser.add_argument("--write-readme", action="store_true", help="put the table into README.md's markers")
    parser.add_argument("--family", action="append", choices=[f.name for f in FAMILIES],
                        help="run only this family (repeatable); --write-readme needs them all")
    args = parser.parse_args()
    if args.write_readme and args.family:
        parser.error("--write-readme writes the whole table: run every family")
    chosen = [f for f in FAMILIES if not args.family or f.name in args.family]
    os.environ[KEY_ENV] = SECRET
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop_on_signal)
    start = time.perf_counter()
    results: list[Result] = []
    try:
        with tempfile.TemporaryDirectory(prefix="mmwatch-reliability-") as root:
            for family in chosen:
                print(f"... {family.name}", file=sys.stderr, flush=True)
                results.append(run_family(family, Path(root)))
                print(f"    {results[-1].seconds:.1f} s", file=sys.stderr, flush=True)
    finally:
        stop_children()
    total = time.perf_counter() - start
    rendered = table(results)
    print(rendered)
    failed = failures(results)
    print("\nDid not survive or leaked:" if failed else "\nEvery fault survived; nothing leaked.")
    for line in failed:
        print(line)
    print(f"\ntotal time {total:.1f} s ({', '.join(f'{r.family.name} {r.seconds:.1f} s' for r in results)})")
    if args.write_readme:
        said = "\n\nDid not survive or leaked:\n\n" + "\n".join(failed) if failed else ""
        write_readme(f"{rendered}{said}\n\nMeasured by `{COMMAND} --write-readme` ({total:.0f} s on "
                     f"{os.cpu_count()} CPU cores).")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
