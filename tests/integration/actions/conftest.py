"""A real Redis server for the data-tier executor tests, one per session (the PostgreSQL
cluster is the suite's own `postgres_cluster`, tests/stores.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services.redis import start_redis


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work: Path = tmp_path_factory.mktemp("redis")
    service, url = start_redis(work)
    try:
        yield url
    finally:
        service.stop()
