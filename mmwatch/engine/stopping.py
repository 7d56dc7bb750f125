"""Stopping a cycle on SIGINT or SIGTERM as cleanly as on Ctrl-C.

A scheduler, a container runtime or systemd stops a process with SIGTERM, which by default ends
Python at once: no `finally`, no run row marked, a Prefect temporary server left running. Inside
`stop_on_signals` SIGTERM raises `Stopped` (a KeyboardInterrupt, so Prefect and asyncio unwind as
they do on Ctrl-C): the writer writes what it holds, the cycle ingests the shards written so far
and marks its run interrupted, and context managers close what they opened.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Stopped(KeyboardInterrupt):
    """The process was asked to stop by a signal; the message names it."""


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise Stopped(f"stopped by {signal.Signals(signum).name}")


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM raises Stopped in the main thread while inside; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_stopped)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _signal_of(exc: BaseException) -> int | None:
    """The signal an orchestrator's own stop exception carries (Prefect's flow engine turns SIGTERM
    into `TerminationSignal(signal=15)` before our handler sees it)."""
    value = getattr(exc, "signal", None)
    return value if isinstance(value, int) and value in (signal.SIGTERM, signal.SIGINT) else None


def is_stop(exc: BaseException) -> bool:
    """A stop asked for from outside (Ctrl-C, SIGINT, SIGTERM), not a failure of the cycle."""
    return isinstance(exc, KeyboardInterrupt) or _signal_of(exc) is not None


def stop_reason(exc: BaseException) -> str:
    """What stopped the cycle, in words: the signal's name."""
    if isinstance(exc, Stopped):
        return str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return "stopped by SIGINT (Ctrl-C)"
    number = _signal_of(exc)
    return f"stopped by {signal.Signals(number).name}" if number is not None else f"{type(exc).__name__}: {exc}"
