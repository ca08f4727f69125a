"""The database the settings name: one SQLite file in data_dir, or PostgreSQL."""

from __future__ import annotations

from firstline.store.database import Database, SqliteDatabase
from firstline.store.settings import StoreSettings


def open_database(
    settings: StoreSettings,
    *,
    per_thread: bool = False,
    busy_timeout_seconds: float = 30.0,
    durable_fsync: bool = False,
) -> Database:
    """The SQLite options matter only for SQLite: PostgreSQL pools its connections per
    process and is durable at every commit."""
    url = settings.postgres_url
    if url is not None:
        from firstline.store.postgres import shared_postgres

        return shared_postgres(url, pool_size=settings.pool_size)
    return SqliteDatabase(
        settings.incidents_db,
        per_thread=per_thread,
        busy_timeout_seconds=busy_timeout_seconds,
        durable_fsync=durable_fsync,
    )
