"""Store failures typed by what the caller should do: busy (retry soon, 429) or
unavailable (503), produced by real SQLite failures on a real file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import empty_checkpoint

from firstline.errors import TemporaryError
from firstline.intake.grouping import group_key
from firstline.store.checkpoints import sqlite_checkpointer
from firstline.store.errors import StoreBusy, StoreUnavailable
from firstline.store.incidents import IncidentStore
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
    with intake.db.connect() as kept:  # the thread's connection, which can no longer write
        kept.execute("PRAGMA query_only = ON")
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


def test_a_data_directory_that_cannot_be_made_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the directory should be")
    with pytest.raises(StoreUnavailable, match="cannot create"):
        IncidentStore(tmp_path / "data" / "incidents.sqlite")
    with pytest.raises(StoreUnavailable):
        IntakeStore(tmp_path / "data" / "incidents.sqlite")


def test_every_store_write_raises_store_errors_not_sqlite_errors(tmp_path: Path) -> None:
    path = tmp_path / "incidents.sqlite"
    store = IncidentStore(path)
    store.create("inc-1", "HighErrorRate", "f1", None)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer: this one waits, then gives up
    try:
        with pytest.raises(StoreBusy) as caught:
            _with_short_busy_timeout(store).update("inc-1", summary="never written")
        assert isinstance(caught.value, TemporaryError) and caught.value.retry_after is None
        assert isinstance(caught.value.cause, sqlite3.OperationalError)
    finally:
        holder.execute("ROLLBACK")
    assert store.summary("inc-1").summary == ""


def _with_short_busy_timeout(store: IncidentStore) -> IncidentStore:
    """The same store, waiting 0.1 s for a lock instead of 30."""
    connect = store._connect

    @contextmanager
    def short() -> Iterator[sqlite3.Connection]:
        with connect() as db:
            db.execute("PRAGMA busy_timeout = 100")
            yield db

    store._connect = short  # type: ignore[method-assign]
    return store


async def test_the_checkpointer_raises_store_errors_not_driver_errors(tmp_path: Path) -> None:
    config: RunnableConfig = {"configurable": {"thread_id": "inc-1", "checkpoint_ns": ""}}
    async with sqlite_checkpointer(tmp_path / "checkpoints.sqlite", []) as saver:
        stored = await saver.aput(config, empty_checkpoint(), {}, {})
        assert await saver.aget_tuple(stored) is not None
        await saver.conn.execute("PRAGMA query_only = ON")  # as a read-only file would
        with pytest.raises(StoreUnavailable):
            await saver.aput(config, empty_checkpoint(), {}, {})
        with pytest.raises(StoreUnavailable):
            await saver.aput_writes(stored, [("channel", 1)], "task-1")
        assert [t async for t in saver.alist(config)], "reads still work"
