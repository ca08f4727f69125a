from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services.prometheus import Monitoring, start_monitoring


@pytest.fixture(scope="session")
def monitoring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitoring]:
    stack = start_monitoring(Path(tmp_path_factory.mktemp("monitoring")))
    try:
        yield stack
    finally:
        stack.stop()
