"""Suite-wide settings: no network, no telemetry, Prefect state in a temp folder."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator

import pytest

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="mmwatch-prefect-"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
# Prefect's log handlers keep the stream that was stderr when they were made; pytest closes its
# capture streams between tests, so late records (e.g. at harness shutdown) would print
# "--- Logging error ---" tracebacks that say nothing about the code under test.
logging.raiseExceptions = False


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A real Prefect engine with a temporary database, shared by every flow test."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield
