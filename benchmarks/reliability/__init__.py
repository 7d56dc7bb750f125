"""Reliability: hostile inputs and faults thrown at the real code, and what became of each.

Unit tests prove each guard on its own; this package drives the code a nightly run uses (the
`openai` adapter, the benchmark loaders and their image screen, `mmwatch run`, the cycle, the
terminal table and the board) with one battery of faults, so the README's reliability table is
measured, not typed. Everything stays on loopback (127.0.0.1) and in temporary folders, with a
planted secret in the environment as the API key.

A fault *survived* when the run did the right thing: the fault was reported in a message naming
the probe, file or field, nothing was lost and nothing was duplicated. It *leaked* when the
planted secret turned up in anything that came out: responses, errors, log records, a command's
stdout or stderr, the store or the snapshot. Under the table each failure says what was expected
and what happened. Exits 1 if anything did not survive or leaked, so CI can run it.

    .venv/bin/python -m benchmarks.reliability [--write-readme] [--family NAME ...]

`--write-readme` replaces the table between `<!-- reliability:start -->` and
`<!-- reliability:end -->` in README.md (the markers must already be there).

The modules, one per family of faults, each a function `(temporary folder) -> [Outcome]`:

    api_faults.py   the `openai` adapter against a misbehaving loopback endpoint
    inputs.py       bad rows and images in CSV / JSONL benchmark files
    configs.py      bad configs through `mmwatch run -c`
    names.py        markup in names, prompts and answers, through a cycle, the terminal table and the board
    interrupts.py   signals thrown at `mmwatch run` mid-evaluation
    publishing.py   SIGKILL while `mmwatch run` publishes its snapshot (part of the interrupted-runs family)

and what they share: common.py (the Outcome type, child processes, the planted secret and the
search for it) and endpoint.py (the test suite's fault endpoint). __main__.py runs the families
and prints the table.
"""
