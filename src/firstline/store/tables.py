"""What every store has in common: the database its tables live in, brought up to date
once per process (store/migrations.py), and one short transaction per method."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from firstline.errors import InvalidValue
from firstline.store.database import Connection, Database, Dialect, as_database
from firstline.store.migrations import ensure_schema


class TableStore:
    """Built on a Database, or on a bare path (its own SQLite file)."""

    def __init__(self, where: Database | Path) -> None:
        self.db = as_database(where)
        ensure_schema(self.db)

    @property
    def path(self) -> Path:
        """The SQLite file (for tools and tests that open it themselves)."""
        if self.db.dialect is not Dialect.SQLITE:
            raise InvalidValue(f"{self.db.location} is not a SQLite file")
        return Path(self.db.location)

    def _connect(self) -> AbstractContextManager[Connection]:
        """Autocommit: each statement commits on its own."""
        return self.db.connect()

    def _transaction(self) -> AbstractContextManager[Connection]:
        return self.db.transaction()
