"""The databases a store test runs on: every test that asks for `database` runs twice, on
a SQLite file and on a real PostgreSQL 15 (a throwaway cluster for the session, a fresh
database per test). PostgreSQL missing is a failure, not a skip: `make test-services`
installs it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from firstline.store.database import Database, SqliteDatabase
from firstline.store.postgres import PostgresDatabase
from tests.services.postgres import PostgresCluster

_NAMES = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


def postgres_url(cluster: PostgresCluster, name: str) -> str:
    return f"postgresql://postgres@127.0.0.1:{cluster.port}/{name}"


@pytest.fixture
def postgres_database(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """A fresh, empty database's URL, dropped afterwards."""
    name = f"store_test_{next(_NAMES)}"
    with psycopg.connect(postgres_cluster.dsn(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield postgres_url(postgres_cluster, name)
    finally:
        with psycopg.connect(postgres_cluster.dsn(), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db: Database = SqliteDatabase(tmp_path / "incidents.sqlite")
        yield db
        return
    url = request.getfixturevalue("postgres_database")
    pg = PostgresDatabase(url, pool_size=4)
    try:
        yield pg
    finally:
        pg.close()
