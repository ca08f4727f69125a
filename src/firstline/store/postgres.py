"""PostgreSQL under the stores: a connection pool per database URL, shared by every store
of the process, and psycopg's errors typed as StoreError kinds.

The stores' SQL uses qmark parameters; psycopg wants `%s`. The rewrite is done once per
statement text (cached) and only outside quoted literals, so a `?` or `%` inside a string
literal is left alone. A text-array parameter (`?::text[]`, ManyRows' columns) becomes
`%b`: sent binary, because the text form escapes every element with a regular expression,
which cost more than the insert itself.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import psycopg.errors as pg_errors
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from firstline.store.database import Dialect
from firstline.store.errors import StoreBusy, StoreError, StoreUnavailable

_LITERAL_OR_MARK = re.compile(r"'(?:[^']|'')*'|\?::text\[\]|\?|%")


@lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """`?` parameters as psycopg's `%s`, and a literal `%` outside strings doubled."""

    def swap(match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "?":
            return "%s"
        if text == "?::text[]":
            return "%b::text[]"
        if text == "%":
            return "%%"
        return text  # a quoted literal, as written

    return _LITERAL_OR_MARK.sub(swap, sql)


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}***@{host}" if user else f"***@{host}"))


# Waiting on a lock or a pool slot is "busy" (retry soon); a connection that cannot be
# made or was lost, a read-only or full database is "unavailable" (retry later).
_BUSY = (
    pg_errors.LockNotAvailable,
    pg_errors.DeadlockDetected,
    pg_errors.SerializationFailure,
    pg_errors.QueryCanceled,
    pg_errors.TooManyConnections,
)
_UNAVAILABLE = (
    psycopg.OperationalError,
    pg_errors.ReadOnlySqlTransaction,
    pg_errors.DiskFull,
    pg_errors.InsufficientResources,
    pg_errors.AdminShutdown,
    pg_errors.CannotConnectNow,
)


def classify(exc: BaseException) -> StoreError | None:
    """The typed error for a failure of the database itself; None for a bug in a query
    (a wrong column, a violated constraint), which stays the driver's error."""
    if isinstance(exc, PoolTimeout):
        return StoreBusy(f"the store is busy (no free connection: {exc})", exc)
    if isinstance(exc, _BUSY):
        return StoreBusy(f"the store is busy ({exc})", exc)
    if isinstance(exc, _UNAVAILABLE):
        return StoreUnavailable(f"the store is unavailable ({exc})", exc)
    return None


@contextmanager
def typed_pg_errors() -> Iterator[None]:
    try:
        yield
    except (psycopg.Error, PoolTimeout) as exc:
        typed = classify(exc)
        if typed is None:
            raise
        raise typed from exc


class PgConnection:
    """A psycopg connection that takes the stores' qmark SQL."""

    def __init__(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        self.conn = conn

    def execute(self, sql: str, args: Sequence[object] = (), /) -> psycopg.Cursor[Any]:
        if not args:  # sent as written: psycopg reads no placeholders without parameters
            return self.conn.execute(sql, prepare=False)
        return self.conn.execute(to_pyformat(sql), args, prepare=False)

    def executemany(self, sql: str, args: Iterable[Sequence[object]], /) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(to_pyformat(sql), list(args))


class PostgresDatabase:
    """Every transaction waits at most `lock_timeout_seconds` for a row or advisory lock
    (then StoreBusy), and a statement at most `statement_timeout_seconds`."""

    dialect = Dialect.POSTGRESQL
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        connect_timeout_seconds: float = 10.0,
        lock_timeout_seconds: float = 5.0,
        statement_timeout_seconds: float = 60.0,
    ) -> None:
        self.url = url
        self.location = redacted(url)
        # Writers of unrelated groups do not wait on each other here; half the pool leaves
        # the other half to the workers, the outbox and the API's reads.
        self.concurrent_writers = max(1, min(_MAX_WRITERS, pool_size // 2))
        options = (
            f"-c lock_timeout={int(lock_timeout_seconds * 1000)}"
            f" -c statement_timeout={int(statement_timeout_seconds * 1000)}"
        )
        self.pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            timeout=connect_timeout_seconds,
            kwargs={
                "autocommit": True,
                "row_factory": dict_row,
                "connect_timeout": max(1, int(connect_timeout_seconds)),
                "options": options,
            },
            open=False,
            name="firstline-store",
        )
        with typed_pg_errors():
            self.pool.open(wait=False)

    @contextmanager
    def connect(self) -> Iterator[PgConnection]:
        with typed_pg_errors(), self.pool.connection() as conn:
            yield PgConnection(conn)

    @contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        with typed_pg_errors(), self.pool.connection() as conn, conn.transaction():
            yield PgConnection(conn)

    def serialize(self, db: Any, *keys: str) -> None:
        """Transaction-scoped advisory locks, one per bucket of keys (a delivery of 20,000
        groups must not take 20,000 locks: PostgreSQL's lock table is small), taken in one
        order in one statement, so two writers with overlapping keys cannot deadlock."""
        buckets = advisory_buckets(keys)
        if buckets:
            db.execute(
                "SELECT count(pg_advisory_xact_lock(?, b)) AS n"
                " FROM (SELECT unnest(?::int[]) AS b ORDER BY 1) AS ordered",
                (LOCK_SPACE, buckets),
            )

    def close(self) -> None:
        self.pool.close()


_BUCKETS = 128
_MAX_WRITERS = 8
LOCK_SPACE = 0x666C  # the first half of firstline's two-part advisory lock keys


def advisory_buckets(keys: Iterable[str]) -> list[int]:
    """The second halves of the advisory locks `serialize` takes for these keys, sorted."""
    return sorted({_lock_id(k) % _BUCKETS for k in keys})


def _lock_id(key: str) -> int:
    """A stable signed 64-bit id for an advisory lock (two CRCs: collisions only make two
    unrelated writers wait for each other, never let two related ones through)."""
    data = key.encode()
    high, low = zlib.crc32(data), zlib.crc32(data[::-1])
    value = (high << 32) | low
    return value - (1 << 64) if value >= 1 << 63 else value


_SHARED: dict[str, PostgresDatabase] = {}
_SHARED_LOCK = threading.Lock()


def shared_postgres(url: str, **options: Any) -> PostgresDatabase:
    """One pool per URL per process: every store of a process shares it."""
    with _SHARED_LOCK:
        found = _SHARED.get(url)
        if found is None:
            found = _SHARED[url] = PostgresDatabase(url, **options)
        return found
