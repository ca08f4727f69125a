"""What every store on the shared SQLite file has in common.

Each write is its own short connection and transaction, so another process (a CLI
approval, the server's workers) sees it at once; WAL lets readers and one writer work
side by side, and the busy timeout makes a second writer wait instead of failing. A failure
of the database itself surfaces as StoreBusy or StoreUnavailable (store/errors.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from firstline.store.errors import StoreUnavailable, typed_errors


def ensure_parent(path: Path) -> None:
    """The database file's directory exists; StoreUnavailable if it cannot be made."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailable(
            f"the store is unavailable (cannot create {path.parent}: {exc.strerror or exc})", exc
        ) from exc


class SqliteStore:
    """Subclasses name their `schema` (CREATE ... IF NOT EXISTS), applied on opening."""

    schema: str = ""

    def __init__(self, path: Path) -> None:
        self.path = path
        ensure_parent(path)
        with self._connect() as db:
            db.executescript(self.schema)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with typed_errors():
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA busy_timeout=30000")
                yield db
            finally:
                db.close()
