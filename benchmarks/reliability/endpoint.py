"""The misbehaving loopback endpoint of the test suite (tests/fault_endpoint.py), for the families.

It lives with the tests, which use it for the adapter's fault-injection tests; it is not part of
the installed packages, so its folder goes on the path here rather than copying it: the script
and the tests then throw the same faults. Only after the real packages are imported: tests/mmwatch/,
tests/storage/... (folders without an __init__.py) would otherwise be taken for namespace packages
of the same names.
"""

from __future__ import annotations

import importlib
import sys

from .common import REPO

for _package in ("adapters", "flows", "leaderboard", "mmwatch", "storage"):
    importlib.import_module(_package)
sys.path.append(str(REPO / "tests"))

from fault_endpoint import Fault, FaultEndpoint, PerPrompt, Received, Schedule, Scripted, Seeded  # noqa: E402

__all__ = ["Fault", "FaultEndpoint", "PerPrompt", "Received", "Schedule", "Scripted", "Seeded"]
