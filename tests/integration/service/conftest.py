from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services.firstline_server import FirstlineServer, start_firstline


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstlineServer]:
    """One `firstline serve` child process per test module (real HTTP over loopback)."""
    workdir: Path = tmp_path_factory.mktemp("serve")
    running = start_firstline(workdir)
    yield running
    running.stop()
