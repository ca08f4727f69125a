"""The shop's services as real processes (`python -m firstline.lab.shop SERVICE`) against the
suite's real PostgreSQL, a real Redis configured as the lab's (32 MB, noeviction) and, for
the log tests, the suite's Loki-API server (qryn)."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from tests.integration.lab.shop import ShopProcesses
from tests.integration.loki.conftest import loki  # noqa: F401 (the session's qryn fixture)
from tests.services.postgres import PostgresCluster
from tests.services.redis import start_redis

_DATABASES = itertools.count(1)
LAB_MAXMEMORY = "32mb"
SHOP_ROLE = "lab_shop"


@pytest.fixture(scope="session")
def lab_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    service, url = start_redis(tmp_path_factory.mktemp("lab-redis"))
    client = redis.Redis.from_url(url)
    client.config_set("maxmemory", LAB_MAXMEMORY)
    client.config_set("maxmemory-policy", "noeviction")
    client.close()
    try:
        yield url
    finally:
        service.stop()


@pytest.fixture(scope="module")
def shop_dsn(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """A fresh database for the shop of one test module, owned by and connected as an
    ordinary role: firstline never terminates a superuser's sessions, so the shop, as in
    any real production, is not one."""
    name = f"shop_{next(_DATABASES)}"
    with psycopg.connect(postgres_cluster.dsn(), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (SHOP_ROLE,)).fetchone():
            admin.execute(f"CREATE ROLE {SHOP_ROLE} LOGIN")
        admin.execute(f"CREATE DATABASE {name} OWNER {SHOP_ROLE}")
    try:
        yield postgres_cluster.dsn(user=SHOP_ROLE, dbname=name)
    finally:
        with psycopg.connect(postgres_cluster.dsn(), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def shop_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopProcesses]:
    processes = ShopProcesses(Path(tmp_path_factory.mktemp("shop-logs")), sys.executable)
    try:
        yield processes
    finally:
        processes.stop_all()


@pytest.fixture
def redis_client(lab_redis: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(lab_redis, decode_responses=True)
    try:
        yield client
    finally:
        client.close()
