"""The database under every store: SQLite (the embedded default) or PostgreSQL.

The stores write one SQL text for both, in the subset the two share: qmark (`?`)
parameters, `ON CONFLICT ... DO NOTHING/UPDATE`, `RETURNING`, ISO-8601 UTC timestamps
stored as text (they sort as time), rows read by column name. What differs is said once,
here: how a transaction starts and serialises writers (`transaction`, `serialize`), and
how a claim skips rows another replica holds (`skip_locked`).

Each store method is one transaction, or one autocommit statement. A failure of the
database itself raises only StoreError kinds (store/errors.py), never a driver's error.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, TypeVar

from firstline.store.errors import StoreUnavailable, typed_errors

T = TypeVar("T")

Row = Mapping[str, Any]
"""A row, read by column name (sqlite3.Row and psycopg's dict rows both are)."""


class Dialect(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    def execute(self, sql: str, args: Sequence[object] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, args: Iterable[Sequence[object]], /) -> Any: ...


class Database(Protocol):
    dialect: Dialect
    location: str
    """Where it is, for messages and for schema bookkeeping (no password)."""

    def connect(self) -> AbstractContextManager[Connection]:
        """A connection in autocommit mode: each statement is its own transaction."""
        ...

    def transaction(self) -> AbstractContextManager[Connection]:
        """One transaction, committed when the block ends, rolled back if it raises.
        Writers that `serialize` on the same key inside it run one after the other."""
        ...

    def serialize(self, db: Connection, *keys: str) -> None:
        """Inside a transaction: wait until no other transaction holds any of these keys,
        then hold them until this one ends."""
        ...

    @property
    def skip_locked(self) -> str:
        """The clause a claiming SELECT ends with, so that two replicas never claim the
        same row and neither waits for the other."""
        ...

    @property
    def concurrent_writers(self) -> int:
        """How many write transactions can usefully run at once in this process: more
        threads than this only queue on the database's own lock."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ManyRows:
    """An INSERT of many rows in one statement per chunk: a round trip and a plan per few
    hundred rows instead of per row. SQLite takes `VALUES (...), (...)`; PostgreSQL takes
    one text array per column through `unnest`, so the statement text never changes with
    the number of rows (psycopg's parsing of a long, varying text cost more than the
    database's work). Every parameter is text."""

    head: str
    """Up to and excluding VALUES: `INSERT INTO t (a, b)`."""
    row: str
    """One row's placeholders, literals allowed: `(?, 'queued', ?)`."""
    tail: str = ""
    """After the rows: `ON CONFLICT ...`. With DO UPDATE, no two rows may share a key."""

    @property
    def width(self) -> int:
        return self.row.count("?")

    def _unnest(self) -> str:
        columns = [f"c{n}" for n in range(self.width)]
        picked = iter(columns)
        select = re.sub(r"\?", lambda _: f"u.{next(picked)}", self.row.strip()[1:-1])
        arrays = ", ".join("?::text[]" for _ in columns)
        return (
            f"{self.head} SELECT {select} FROM unnest({arrays}) AS u({', '.join(columns)})"
            f"{self.tail}"
        )

    def write(self, db: Connection, dialect: Dialect, rows: Sequence[Sequence[object]]) -> None:
        if dialect is Dialect.POSTGRESQL:
            db.execute(self._unnest(), [list(column) for column in zip(*rows, strict=True)])
            return
        per = max(1, _PARAMETERS_PER_STATEMENT // max(1, self.width))
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            values = ", ".join([self.row] * len(chunk))
            db.execute(f"{self.head} VALUES {values}{self.tail}", [v for r in chunk for v in r])


_PARAMETERS_PER_STATEMENT = 900  # well under SQLite's and PostgreSQL's limits


IN_LIST_SIZE = 500
"""Values per `IN (...)` list, well under either database's parameter limit."""


def placeholders(count: int) -> str:
    return ", ".join("?" * count)


def in_chunks(values: Sequence[T], size: int = IN_LIST_SIZE) -> Iterator[list[T]]:
    """`values` in lists of at most `size`, for IN (...) lists and batched writes."""
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


_TABLE_EXISTS = {
    Dialect.SQLITE: "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?",
    Dialect.POSTGRESQL: "SELECT count(*) AS n FROM pg_tables WHERE tablename = ?"
    " AND schemaname = current_schema()",
}


def table_exists(db: Connection, dialect: Dialect, name: str) -> bool:
    return bool(db.execute(_TABLE_EXISTS[dialect], (name,)).fetchone()["n"])


def ensure_parent(path: Path) -> None:
    """The database file's directory exists; StoreUnavailable if it cannot be made."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailable(
            f"the store is unavailable (cannot create {path.parent}: {exc.strerror or exc})", exc
        ) from exc


class SqliteDatabase:
    """One SQLite file, in WAL mode, so readers and one writer work side by side.

    `per_thread` keeps one connection per thread (the intake's hot path); otherwise each
    block opens and closes its own, which is what a CLI command or a rarely used store
    wants. `BEGIN IMMEDIATE` takes the write lock when a transaction starts, so every
    transaction is serialised against every other writer: `serialize` has nothing to add.
    A connection that failed as unavailable is dropped, so the store recovers on its own
    once the file can be written again."""

    dialect = Dialect.SQLITE
    skip_locked = ""
    concurrent_writers = 1  # one write lock per file: a second writer only waits for it

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_seconds: float = 30.0,
        durable_fsync: bool = False,
        per_thread: bool = False,
    ) -> None:
        self.path = path
        self.location = str(path)
        self.busy_timeout_ms = int(busy_timeout_seconds * 1000)
        self.durable_fsync = durable_fsync
        self.per_thread = per_thread
        self._local = threading.local()
        ensure_parent(path)

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=True,
        )
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={'FULL' if self.durable_fsync else 'NORMAL'}")
        db.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")
        return db

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        try:
            with typed_errors():
                if not self.per_thread:
                    db = self._open()
                    try:
                        yield db
                    finally:
                        db.close()
                    return
                kept: sqlite3.Connection | None = getattr(self._local, "db", None)
                if kept is None:
                    kept = self._local.db = self._open()
                yield kept
        except StoreUnavailable:
            self.close()  # a fresh connection next time, once the file is usable again
            raise

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite may have rolled back already (disk full)
                    db.execute("ROLLBACK")
                raise

    def serialize(self, db: Connection, *keys: str) -> None:
        """BEGIN IMMEDIATE holds the database's one write lock already."""

    def close(self) -> None:
        kept: sqlite3.Connection | None = getattr(self._local, "db", None)
        if kept is not None:
            kept.close()
            self._local.db = None


def as_database(where: Database | Path) -> Database:
    """A store built from a bare path (tests, older callers) gets its own SQLite file."""
    return SqliteDatabase(where) if isinstance(where, Path) else where
