"""The session's shared monitoring services, here so that every folder that needs them (the
per-backend suites, the live incident, the capture) uses the same running instance: a
fixture imported into another folder's module would be a second fixture, starting its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services.loki import LokiServer, start_loki
from tests.services.process import ServiceError
from tests.services.prometheus import Monitoring, start_monitoring


@pytest.fixture(scope="session")
def monitoring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitoring]:
    stack = start_monitoring(Path(tmp_path_factory.mktemp("monitoring")))
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def loki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LokiServer]:
    """qryn on chdb, started once for the session and stopped by PID at the end. A missing
    install fails every test that needs it, with the fix, rather than skipping them."""
    problem = None
    try:
        server = start_loki(Path(tmp_path_factory.mktemp("loki")))
    except ServiceError as exc:
        problem = str(exc)
    if problem is not None:
        pytest.fail(f"cannot start the Loki-API test server: {problem}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()
