"""Store failures typed by what the caller should do about them.

- StoreBusy: the database stayed locked past the busy timeout (another writer, a long
  transaction). Nothing was written; retry soon (HTTP 429 with Retry-After).
- StoreUnavailable: the database cannot be written or read at all right now (read-only
  file or file system, disk full, I/O error, cannot open). Nothing was written; retry
  later, elsewhere if there is an elsewhere (HTTP 503 with Retry-After).

Both are TemporaryError kinds (firstline/errors.py): workers back off and retry the
incident, the HTTP layer answers 429/503 with Retry-After, and readiness reports the state
of the store as it is now. Every store entry point raises only these for a failure of the
database itself, never a driver error (sqlite3, aiosqlite): callers catch StoreError.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from firstline.errors import Busy, TemporaryError

_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


class StoreError(TemporaryError):
    """The store could not do what was asked; nothing was written."""

    status = 503

    def __init__(
        self, message: str, cause: BaseException | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, retry_after)
        self.cause = cause


class StoreBusy(StoreError, Busy):
    """Locked past the busy timeout; retry soon."""

    status = 429


class StoreUnavailable(StoreError):
    """Cannot be read or written at all right now; retry later."""

    status = 503


def classify(exc: sqlite3.Error) -> StoreError:
    """The typed error for a sqlite3 error of the operational kind (not a bug in a query)."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    if primary in _BUSY_CODES or (primary is None and "locked" in text):
        return StoreBusy(f"the store is busy ({text})", exc)
    return StoreUnavailable(f"the store is unavailable ({text})", exc)


# What counts as the store failing rather than firstline misusing it: programming errors
# (a wrong column, a constraint violated by a bug) stay sqlite3 errors and surface as bugs.
OPERATIONAL = (sqlite3.OperationalError, sqlite3.DatabaseError)
_BUGS = (sqlite3.ProgrammingError, sqlite3.IntegrityError, sqlite3.InterfaceError)


@contextmanager
def typed_errors() -> Iterator[None]:
    """Re-raise a sqlite3 failure of the database itself as StoreBusy or StoreUnavailable."""
    try:
        yield
    except _BUGS:
        raise
    except OPERATIONAL as exc:
        if _is_query_bug(exc):
            raise
        raise classify(exc) from exc


def _is_query_bug(exc: sqlite3.Error) -> bool:
    text = str(exc)
    return text.startswith(("no such column", "near ", "no such function")) or "syntax" in text
