from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services.loki import LokiServer, start_loki
from tests.services.process import ServiceError


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
