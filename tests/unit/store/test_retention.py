"""Retention and compaction (store/retention.py) on real SQLite files: the incident store's
and a real LangGraph SQLite checkpointer's."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver, empty_checkpoint
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from firstline.domain.incident import IncidentStatus, TimelineEntry
from firstline.store.action_log import ActionLog
from firstline.store.audit import AuditKind, AuditLog
from firstline.store.checkpoints import postgres_checkpointer, sqlite_checkpointer
from firstline.store.database import Database
from firstline.store.incidents import IncidentStore
from firstline.store.intake import IntakeStore, QueueState
from firstline.store.outbox import Outbox
from firstline.store.postgres import PostgresDatabase
from firstline.store.retention import CompactionReport, Vacuum, compact
from firstline.store.settings import StoreSettings
from tests.unit import builders
from tests.unit.store.seed import T0, ingest_incidents

NOW = T0 + timedelta(days=100)
LONG_AGO = (NOW - timedelta(days=60)).isoformat()
RECENTLY = (NOW - timedelta(seconds=30)).isoformat()


class World:
    def __init__(
        self, data: Path, saver: BaseCheckpointSaver[Any], database: Database | None = None
    ) -> None:
        url = database.url if isinstance(database, PostgresDatabase) else None
        self.settings = StoreSettings(data_dir=data, url=url)
        where: Database | Path = database or self.settings.incidents_db
        self.intake = IntakeStore(where)
        self.db = self.intake.db
        self.store = IncidentStore(self.db)
        self.outbox = Outbox(self.db)
        self.audit = AuditLog(self.db)
        self.ledger = ActionLog(self.db)
        self.saver = saver

    def incident(
        self,
        row_status: IncidentStatus,
        *,
        snapshot_status: IncidentStatus | None = None,
        updated_at: str = LONG_AGO,
        queue: QueueState = QueueState.DONE,
        resolved_alert: bool = True,
    ) -> str:
        """An incident as a worker leaves it, changed last at `updated_at`."""
        (incident,) = ingest_incidents(self.intake, 1, prefix=f"svc{len(self.ids())}")
        self.intake.claim_next(T0)
        self.intake.set_queue_state(incident, queue, T0)
        self.store.append_timeline(
            incident, [TimelineEntry(key="0001-triage", at=T0, stage="triage", event="triaged")]
        )
        self.store.open_approval(incident, 1, T0, T0 + timedelta(minutes=10))
        self.outbox.enqueue(incident_id=incident, notifier="slack", event_key="opened",
                            kind="trigger", dedup_key=incident, payload="{}", now=T0)  # fmt: skip
        for row in self.outbox.claim_due(now=T0, owner="t", lease_seconds=60, limit=10):
            self.outbox.mark_delivered(row.id, owner="t", now=T0, receipt={})
        key = f"{incident}:1:0"
        self.ledger.begin_action(key, incident, builders.action())
        self.ledger.record_dry_run(key, "diff")
        self.audit.append(incident, AuditKind.DECISION, {"outcome": "escalate"})
        status = snapshot_status or row_status
        self.store.save_snapshot(incident, {"incident_id": incident, "status": status.value})
        with self.db.transaction() as db:
            if resolved_alert:
                db.execute(
                    "UPDATE alerts SET status = 'resolved' WHERE incident_id = ?", (incident,)
                )
            db.execute(
                "UPDATE incidents SET status = ?, updated_at = ? WHERE id = ?",
                (row_status.value, updated_at, incident),
            )
        return incident

    def ids(self) -> list[str]:
        return [s.id for s in self.store.list_incidents(1000)]

    def count(self, table: str, incident: str, column: str = "incident_id") -> int:
        with self.db.connect() as db:
            row = db.execute(
                f"SELECT count(*) AS n FROM {table} WHERE {column} = ?", (incident,)
            ).fetchone()
        return int(row["n"])

    async def checkpoints(self, incident: str, count: int = 4, size: int = 20_000) -> None:
        """A thread of `count` checkpoints of about `size` bytes each, as a run leaves."""
        config: Any = {"configurable": {"thread_id": incident, "checkpoint_ns": ""}}
        for step in range(count):
            checkpoint = empty_checkpoint()
            checkpoint["channel_values"] = {"evidence": os.urandom(size // 2).hex()}
            checkpoint["channel_versions"] = {"evidence": str(step + 1)}
            config = await self.saver.aput(
                config, checkpoint, {"source": "loop", "step": step}, {"evidence": str(step + 1)}
            )

    async def has_checkpoints(self, incident: str) -> bool:
        config: Any = {"configurable": {"thread_id": incident, "checkpoint_ns": ""}}
        return await self.saver.aget_tuple(config) is not None

    async def compact(self, **changes: Any) -> CompactionReport:
        settings = self.settings.model_copy(update=changes.pop("settings", {}))
        return await compact(
            intake=self.intake, checkpointer=self.saver, now=NOW, settings=settings, **changes
        )


@asynccontextmanager
async def world_in(tmp_path: Path, database: Database | None = None) -> AsyncIterator[World]:
    """SQLite files in tmp_path, or with a PostgreSQL `database` its tables and LangGraph's
    PostgreSQL checkpointer there."""
    if isinstance(database, PostgresDatabase):
        async with postgres_checkpointer(database.url, [], pool_size=2) as pg_saver:
            yield World(tmp_path, pg_saver, database)
        return
    async with sqlite_checkpointer(tmp_path / "checkpoints.sqlite", []) as saver:
        assert isinstance(saver, AsyncSqliteSaver)
        yield World(tmp_path, saver)


async def test_a_finished_runs_checkpoints_go_and_what_can_still_continue_keeps_them(
    tmp_path: Path,
) -> None:
    async with world_in(tmp_path) as w:
        finished = {
            status: w.incident(status)
            for status in (IncidentStatus.RESOLVED, IncidentStatus.ESCALATED,
                           IncidentStatus.DISMISSED)
        }  # fmt: skip
        waiting = w.incident(IncidentStatus.AWAITING_APPROVAL, queue=QueueState.PAUSED)
        failed = w.incident(IncidentStatus.ESCALATED, snapshot_status=IncidentStatus.REMEDIATING)
        just_now = w.incident(IncidentStatus.RESOLVED, updated_at=RECENTLY)
        for incident in [*finished.values(), waiting, failed, just_now]:
            await w.checkpoints(incident)

        report = await w.compact()

        assert sorted(report.checkpoints_deleted) == sorted(finished.values())
        assert report.checkpoints_kept == [failed], "a failed run can still be resumed"
        for incident in finished.values():
            assert not await w.has_checkpoints(incident)
            assert w.store.snapshot(incident)["status"], "what show reads stays"
        for incident in (waiting, failed, just_now):
            assert await w.has_checkpoints(incident)
        assert report.incidents_deleted == [], "retention is off by default"
        assert w.ids() and len(w.ids()) == 6

        again = await w.compact()
        assert again.checkpoints_deleted == again.checkpoints_kept == [], "looked at once"
        # the failed run is resumed and finishes: its checkpoints go at the next compaction
        w.store.save_snapshot(failed, {"status": "resolved"}, IncidentStatus.RESOLVED)
        with sqlite3.connect(w.settings.incidents_db) as db:
            db.execute(  # a later change than the one compaction looked at
                "UPDATE incidents SET updated_at = ? WHERE id = ?",
                ((NOW - timedelta(days=50)).isoformat(), failed),
            )
        assert (await w.compact()).checkpoints_deleted == [failed]
        assert not await w.has_checkpoints(failed)


async def test_compaction_returns_the_checkpoint_files_space(tmp_path: Path) -> None:
    async with world_in(tmp_path) as w:
        ids = [w.incident(IncidentStatus.RESOLVED) for _ in range(5)]
        for incident in ids:
            await w.checkpoints(incident, count=5, size=40_000)
        dry = await w.compact(dry_run=True)
        assert sorted(dry.checkpoints_deleted) == sorted(ids) and dry.space == []
        assert all([await w.has_checkpoints(i) for i in ids]), "a dry run deletes nothing"

        report = await w.compact()

        checkpoints = next(f for f in report.space if f.path.endswith("checkpoints.sqlite"))
        assert checkpoints.vacuum == "incremental", "a new checkpoint file is incremental"
        assert checkpoints.reclaimed > 5 * 5 * 40_000 * 0.8, checkpoints
        assert (tmp_path / "checkpoints.sqlite").stat().st_size < 200_000
        assert report.bytes_reclaimed >= checkpoints.reclaimed


async def test_retention_deletes_what_is_over_and_keeps_the_audit_trail(
    tmp_path: Path, database: Database
) -> None:
    async with world_in(tmp_path, database) as w:
        old = w.incident(IncidentStatus.RESOLVED)
        old_firing = w.incident(IncidentStatus.CLOSED, resolved_alert=False)
        escalated = w.incident(IncidentStatus.ESCALATED)
        recent = w.incident(IncidentStatus.RESOLVED, updated_at=RECENTLY)
        unsent = w.incident(IncidentStatus.DISMISSED)
        w.outbox.enqueue(incident_id=unsent, notifier="slack", event_key="resolved",
                         kind="resolve", dedup_key=unsent, payload="{}", now=T0)  # fmt: skip
        for incident in (old, old_firing, escalated, recent, unsent):
            await w.checkpoints(incident, count=2)
        audit_before = len(w.audit.records())

        dry = await w.compact(dry_run=True, settings={"retention_days": 30})
        assert sorted(dry.incidents_deleted) == sorted([old, old_firing])
        assert len(w.ids()) == 5, "a dry run deletes nothing"

        report = await w.compact(settings={"retention_days": 30})

        assert sorted(report.incidents_deleted) == sorted([old, old_firing])
        assert report.rows_deleted == dry.rows_deleted
        assert report.alerts_detached == dry.alerts_detached == 1
        assert report.audit_records_kept == dry.audit_records_kept == 2
        assert report.rows_deleted["incidents"] == 2
        assert report.rows_deleted["timeline"] >= 2
        for table in ("approvals", "outbox", "actions", "action_details", "work_queue"):
            assert report.rows_deleted[table] == 2, table
        assert sorted(w.ids()) == sorted([escalated, recent, unsent])
        for gone in (old, old_firing):
            assert not await w.has_checkpoints(gone)
            for table in ("timeline", "approvals", "outbox", "actions", "work_queue"):
                assert w.count(table, gone) == 0, table
            assert w.count("incidents", gone, "id") == 0
            assert w.ledger.entries(gone) == []
            assert len(w.audit.records(gone)) == 1, "the audit trail is never deleted"
        assert w.count("alerts", old) == 0
        # the still-firing alert stays (a repeat is still a repeat), pointing at no incident
        with w.db.connect() as db:
            firing = db.execute(
                "SELECT count(*) AS n FROM alerts WHERE status = 'firing' AND incident_id IS NULL"
            ).fetchone()
        assert firing["n"] == 1
        assert len(w.audit.records()) == audit_before
        assert w.audit.verify().ok
        for kept in (escalated, recent, unsent):
            assert w.count("timeline", kept) >= 1 and w.ledger.entries(kept)


async def test_a_batch_limit_leaves_the_rest_for_the_next_call(
    tmp_path: Path, database: Database
) -> None:
    async with world_in(tmp_path, database) as w:
        ids = [w.incident(IncidentStatus.RESOLVED) for _ in range(5)]
        first = await w.compact(limit=3, settings={"retention_days": 30})
        assert first.more and len(first.checkpoints_deleted) == len(first.incidents_deleted) == 3
        second = await w.compact(limit=3, settings={"retention_days": 30})
        assert not second.more and len(second.incidents_deleted) == 2
        assert w.ids() == [] and sorted(first.incidents_deleted + second.incidents_deleted) == (
            sorted(ids)
        )


async def test_a_full_vacuum_switches_an_old_incident_file_to_incremental(tmp_path: Path) -> None:
    async with world_in(tmp_path) as w:
        with sqlite3.connect(w.settings.incidents_db) as db:
            assert db.execute("PRAGMA auto_vacuum").fetchone() == (0,), "as every store is today"
        auto = await w.compact()
        incidents = next(f for f in auto.space if f.path.endswith("incidents.sqlite"))
        assert incidents.vacuum == "none", "no VACUUM unless asked for"
        full = await w.compact(vacuum=Vacuum.FULL)
        assert {f.vacuum for f in full.space} == {"full"}
        with sqlite3.connect(w.settings.incidents_db) as db:
            assert db.execute("PRAGMA auto_vacuum").fetchone() == (2,)
        later = await w.compact()
        assert {f.vacuum for f in later.space} == {"incremental"}


def test_retention_days_must_be_positive_and_defaults_to_forever() -> None:
    assert StoreSettings().retention_days is None
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        StoreSettings(retention_days=0)


def test_the_report_is_json_with_the_bytes_reclaimed() -> None:
    report = CompactionReport(dry_run=False, now=datetime(2026, 1, 1, tzinfo=UTC),
                              retention_days=None)  # fmt: skip
    assert report.as_json()["bytes_reclaimed"] == 0
