"""Store failures typed by what the caller should do: busy (retry soon, 429) or
unavailable (503), produced by real SQLite failures on a real file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from firstline.intake.grouping import group_key
from firstline.store.errors import StoreBusy, StoreUnavailable
from firstline.store.intake import IntakeStore
from tests.unit.service.test_intake_store import GROUP_BY, T0, WINDOW, alert


def _ingest(intake: IntakeStore, pod: str) -> None:
    a = alert(pod)
    intake.ingest([a], [group_key(a, GROUP_BY)], now=T0, group_window=WINDOW)


def test_a_held_write_lock_is_busy_and_nothing_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "incidents.sqlite"
    intake = IntakeStore(path, busy_timeout_seconds=0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreBusy) as caught:
        _ingest(intake, "p-1")
    assert caught.value.status == 429
    holder.execute("ROLLBACK")
    assert intake.alert_counts() == (0, 0)
    _ingest(intake, "p-1")
    assert intake.alert_counts() == (1, 1)


def test_a_read_only_store_is_unavailable_and_the_store_recovers_by_itself(
    tmp_path: Path,
) -> None:
    intake = IntakeStore(tmp_path / "incidents.sqlite")
    intake._db().execute("PRAGMA query_only = ON")  # this connection can no longer write
    with pytest.raises(StoreUnavailable) as caught:
        _ingest(intake, "p-1")
    assert caught.value.status == 503
    # the failed connection was dropped: the next call opens a fresh one, which can write
    intake.ping(T0)
    _ingest(intake, "p-1")
    assert intake.alert_counts() == (1, 1)


def test_a_missing_database_directory_is_unavailable(tmp_path: Path) -> None:
    intake = IntakeStore(tmp_path / "data" / "incidents.sqlite")
    intake.close()
    (tmp_path / "data" / "incidents.sqlite").unlink()
    (tmp_path / "data").rmdir()
    with pytest.raises(StoreUnavailable):
        intake.ping(T0)
