"""Retention and compaction: what the store may forget, and giving the space back.

Three concerns, one function each, and `compact()` running them in order (what
`firstline store compact` and the server's workers call, docs/storage.md):

- `compact_checkpoints`: a run that has finished needs no checkpoint. What `show`, the API
  and the reports read is the incident's snapshot, saved after the run's last step; what
  reads checkpoints is only what can still continue a run (an approval, `firstline resume`,
  a worker picking up a crashed run), and a finished run has nothing left to continue. So
  once the snapshot's own status is final, the whole thread is deleted through the
  checkpointer's `adelete_thread` (every LangGraph checkpointer has it: SQLite, PostgreSQL,
  memory). An incident whose row is final but whose snapshot is not (a run that failed
  three times and was escalated by the worker) keeps its checkpoints: `firstline resume`
  may still continue it.
- `delete_expired`: with `retention_days` set, an incident that is over (resolved,
  dismissed, self-resolved, closed) and unchanged for that long is deleted with its
  timeline, approvals, alerts, alert group, queue row, sent or given-up notifications,
  action ledger and checkpoints. Escalated and recommended incidents are still in people's
  hands and are kept until they close; an incident with a notification still waiting to be
  sent is kept until it went out. A still-firing alert of a deleted incident stays (so a
  repeat of it is still a repeat, not a new incident) and points at no incident. The audit
  trail is append-only and hash-chained, so it is never deleted: its records of a deleted
  incident stay, and the report counts them.
- `reclaim_space`: SQLite keeps freed pages in the file for reuse. With the file in
  incremental auto-vacuum mode (new checkpoint files are) they are returned to the file
  system at once (`PRAGMA incremental_vacuum`, short, online); a full `VACUUM` (rewrites the
  whole file, needs as much free disk again and blocks writers while it runs) is only done
  when asked for, and also switches the file to incremental mode for next time.

Rows go through the intake store's transaction helper (one transaction per batch, on the
incident store's file); checkpoints only through the checkpointer's API.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from pydantic import BaseModel, Field

from firstline.domain.incident import IncidentStatus
from firstline.store.database import Dialect, in_chunks, placeholders
from firstline.store.errors import typed_errors
from firstline.store.intake import IntakeStore
from firstline.store.settings import StoreSettings

FINISHED = tuple(s.value for s in IncidentStatus if s.final)
OVER = tuple(
    s.value
    for s in IncidentStatus
    if s.final and s not in (IncidentStatus.ESCALATED, IncidentStatus.RECOMMENDED)
)
"""What retention may delete: escalated and recommended incidents are not over until they
close (store/intake.py groups new alerts into them meanwhile)."""

DEFAULT_BATCH = 1000
# Table checkpoint_compactions (migration 0004): incidents whose checkpoints were looked at,
# as of the incident's `updated_at`: deleted, or kept because the run can still continue.
# Looked at again only when the incident changes.

WATERMARK_MARGIN = timedelta(hours=1)
"""Compaction looks only at incidents changed since the newest one it has seen, less this
(clocks of different processes; a change always moves `updated_at` forward), so a call
costs what changed since the last, not every incident there is."""


# -- helpers ---------------------------------------------------------------------------------
def _marks(values: Sequence[object]) -> str:
    return placeholders(len(values))


def _limited(sql: str, args: Sequence[object], limit: int | None) -> tuple[str, tuple[object, ...]]:
    return (sql, tuple(args)) if limit is None else (sql + " LIMIT ?", (*args, limit))


_BOOKKEEPING = "checkpoint_compactions"  # deleted with the incident, not reported

# the rows of an incident, children first; (table, column, extra condition)
_ROWS: tuple[tuple[str, str, str], ...] = (
    ("timeline", "incident_id", ""),
    ("approvals", "incident_id", ""),
    ("outbox", "incident_id", " AND status <> 'pending'"),
    ("action_details", "idempotency_key", ""),
    ("actions", "incident_id", ""),
    ("alerts", "incident_id", ""),
    ("alert_groups", "incident_id", ""),
    ("work_queue", "incident_id", ""),
    ("checkpoint_compactions", "incident_id", ""),
    ("incidents", "id", ""),
)


class Vacuum(StrEnum):
    AUTO = "auto"  # incremental vacuum where the file is in incremental mode, else nothing
    FULL = "full"  # VACUUM: rewrite the file (and switch it to incremental mode)
    NONE = "none"


class FileSpace(BaseModel):
    """One database file: its size (with its WAL) before and after, and the free pages
    still inside it (reused by SQLite for new rows)."""

    path: str
    bytes_before: int
    bytes_after: int
    free_bytes: int
    vacuum: str = Field(description="incremental, full, none, or unsupported (not SQLite)")

    @property
    def reclaimed(self) -> int:
        return self.bytes_before - self.bytes_after


class CompactionReport(BaseModel):
    dry_run: bool
    now: datetime
    retention_days: int | None
    checkpoints_deleted: list[str] = Field(
        default_factory=list, description="Incidents whose finished run's checkpoints went."
    )
    checkpoints_kept: list[str] = Field(
        default_factory=list, description="Final incidents whose run can still continue."
    )
    incidents_deleted: list[str] = Field(default_factory=list)
    rows_deleted: dict[str, int] = Field(default_factory=dict)
    alerts_detached: int = Field(
        default=0, description="Still-firing alerts of deleted incidents, kept, incident unset."
    )
    audit_records_kept: int = Field(
        default=0, description="Audit records of the deleted incidents (never deleted)."
    )
    space: list[FileSpace] = Field(default_factory=list)
    more: bool = Field(default=False, description="A batch limit was reached; run again.")

    @property
    def bytes_reclaimed(self) -> int:
        return sum(f.reclaimed for f in self.space)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json") | {"bytes_reclaimed": self.bytes_reclaimed}


async def compact(
    *,
    intake: IntakeStore,
    checkpointer: BaseCheckpointSaver[Any],
    now: datetime,
    settings: StoreSettings,
    dry_run: bool = False,
    limit: int | None = DEFAULT_BATCH,
    vacuum: Vacuum = Vacuum.AUTO,
) -> CompactionReport:
    """Compact finished runs' checkpoints, delete what retention allows, reclaim space.
    At most `limit` incidents per concern (None: all); `more` says whether some are left.
    Raises StoreError kinds only; safe to run beside the server and to repeat after a crash
    (checkpoints go first, rows after, so nothing is left that no run can find)."""
    report = CompactionReport(dry_run=dry_run, now=now, retention_days=settings.retention_days)
    # Files and their vacuum are SQLite's; PostgreSQL's autovacuum makes deleted rows'
    # space reusable by itself, so there the report has no `space` entries.
    on_files = intake.db.dialect is Dialect.SQLITE
    before = _sizes(intake.path, await _checkpoint_path(checkpointer)) if on_files else {}
    deleted, kept, more = await compact_checkpoints(
        intake, checkpointer, now=now, settings=settings, dry_run=dry_run, limit=limit
    )
    report.checkpoints_deleted, report.checkpoints_kept, report.more = deleted, kept, more
    if settings.retention_days is not None:
        expired, more = await delete_expired(
            intake, checkpointer, now=now, settings=settings, dry_run=dry_run, limit=limit
        )
        report.incidents_deleted = expired.incidents
        report.rows_deleted = expired.rows
        report.alerts_detached = expired.alerts_detached
        report.audit_records_kept = expired.audit_records
        report.more = report.more or more
    if not dry_run and on_files:
        report.space = await reclaim_space(intake, checkpointer, vacuum, before)
    return report


# -- checkpoints ---------------------------------------------------------------------------
async def compact_checkpoints(
    intake: IntakeStore,
    checkpointer: BaseCheckpointSaver[Any],
    *,
    now: datetime,
    settings: StoreSettings,
    dry_run: bool = False,
    limit: int | None = DEFAULT_BATCH,
) -> tuple[list[str], list[str], bool]:
    """Delete the checkpoints of finished runs: (deleted, kept, more left)."""
    cutoff = (now - timedelta(seconds=settings.checkpoint_grace_seconds)).isoformat()
    (newest,) = intake._rows("SELECT max(updated_at) AS at FROM checkpoint_compactions")
    floor = ""  # before every ISO timestamp: the first call looks at everything
    if newest["at"]:
        floor = (datetime.fromisoformat(newest["at"]) - WATERMARK_MARGIN).isoformat()
    # ids first, snapshots a chunk at a time: memory stays bounded whatever the backlog;
    # oldest first, so that what a batch limit leaves is above the watermark
    rows = intake._rows(
        *_limited(
            f"SELECT id, updated_at FROM incidents WHERE status IN ({_marks(FINISHED)})"
            " AND updated_at >= ? AND updated_at < ? AND NOT EXISTS (SELECT 1 FROM"
            " checkpoint_compactions c WHERE c.incident_id = incidents.id"
            " AND c.updated_at = incidents.updated_at) ORDER BY updated_at",
            (*FINISHED, floor, cutoff),
            limit,
        )
    )
    seen = {r["id"]: r["updated_at"] for r in rows}
    deleted: list[str] = []
    kept: list[str] = []
    for chunk in in_chunks(list(seen)):
        snapshots = intake._rows(
            f"SELECT id, snapshot FROM incidents WHERE id IN ({_marks(chunk)})", chunk
        )
        finished = [r["id"] for r in snapshots if _run_finished(r["snapshot"])]
        done = set(finished)
        deleted += finished
        kept += [i for i in chunk if i not in done]
        if dry_run:
            continue
        for incident_id in finished:
            await checkpointer.adelete_thread(incident_id)
        with intake._transaction() as db:
            db.executemany(
                "INSERT INTO checkpoint_compactions (incident_id, updated_at, compacted_at,"
                " kept) VALUES (?, ?, ?, ?) ON CONFLICT (incident_id) DO UPDATE SET"
                " updated_at = excluded.updated_at, compacted_at = excluded.compacted_at,"
                " kept = excluded.kept",
                [(i, seen[i], now.isoformat(), int(i not in done)) for i in chunk],
            )
    return deleted, kept, limit is not None and len(rows) >= limit


def _run_finished(snapshot: str | None) -> bool:
    """The saved state is the run's end: the runner saves a final status only after the
    graph's last step, so nothing is left that a checkpoint could continue."""
    if not snapshot:
        return False
    status = json.loads(snapshot).get("status")
    return status in FINISHED


# -- retention -----------------------------------------------------------------------------
class Expired(BaseModel):
    incidents: list[str] = Field(default_factory=list)
    rows: dict[str, int] = Field(default_factory=dict)
    alerts_detached: int = 0
    audit_records: int = 0


_EXPIRED = (
    f"SELECT id FROM incidents WHERE status IN ({placeholders(len(OVER))}) AND updated_at < ?"
    " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.incident_id = incidents.id"
    "   AND o.status = 'pending')"
    " AND NOT EXISTS (SELECT 1 FROM work_queue q WHERE q.incident_id = incidents.id"
    "   AND q.state IN ('queued', 'running', 'paused'))"
)


async def delete_expired(
    intake: IntakeStore,
    checkpointer: BaseCheckpointSaver[Any],
    *,
    now: datetime,
    settings: StoreSettings,
    dry_run: bool = False,
    limit: int | None = DEFAULT_BATCH,
) -> tuple[Expired, bool]:
    """Delete incidents over for `retention_days` and everything of theirs but the audit
    trail; (what went or would go, more left)."""
    if settings.retention_days is None:
        return Expired(), False
    cutoff = (now - timedelta(days=settings.retention_days)).isoformat()
    found = intake._rows(*_limited(_EXPIRED, (*OVER, cutoff), limit))
    ids = [r["id"] for r in found]
    more = limit is not None and len(ids) >= limit
    if dry_run:
        return _count_rows(intake, ids), more
    expired = Expired()
    for chunk in in_chunks(ids):  # one short transaction per chunk: intake waits less
        await _delete_incidents(intake, checkpointer, chunk, cutoff, expired)
    return expired, more


async def _delete_incidents(
    intake: IntakeStore,
    checkpointer: BaseCheckpointSaver[Any],
    ids: list[str],
    cutoff: str,
    expired: Expired,
) -> None:
    # checkpoints first: a crash after this leaves rows that the next run deletes; the other
    # way round would leave threads no incident names any more
    for incident_id in ids:
        await checkpointer.adelete_thread(incident_id)
    with intake._transaction() as db:
        # again inside the transaction: only what still qualifies now is deleted
        still = [
            r["id"]
            for r in db.execute(
                _EXPIRED + f" AND id IN ({_marks(ids)})", (*OVER, cutoff, *ids)
            ).fetchall()
        ]
        if not still:
            return
        expired.incidents += still
        expired.audit_records += _audit_count(db, still)
        cur = db.execute(
            f"UPDATE alerts SET incident_id = NULL WHERE incident_id IN ({_marks(still)})"
            " AND status = 'firing'",
            still,
        )
        expired.alerts_detached += cur.rowcount
        for table, column, extra in _ROWS:
            cur = db.execute("DELETE " + _rows_of(table, column, extra, still), still)
            if table != _BOOKKEEPING:
                expired.rows[table] = expired.rows.get(table, 0) + cur.rowcount


def _rows_of(table: str, column: str, extra: str, ids: Sequence[str]) -> str:
    """`FROM ... WHERE ...`: the rows of these incidents in one table."""
    if table == "action_details":  # keyed by the ledger's idempotency key
        return (
            "FROM action_details WHERE idempotency_key IN (SELECT idempotency_key"
            f" FROM actions WHERE incident_id IN ({_marks(ids)}))"
        )
    return f"FROM {table} WHERE {column} IN ({_marks(ids)}){extra}"


def _count_rows(intake: IntakeStore, ids: list[str]) -> Expired:
    """What a deletion of these incidents would remove (a dry run)."""
    counted = Expired(incidents=ids)
    for chunk in in_chunks(ids):
        marks = _marks(chunk)
        (firing,) = intake._rows(
            f"SELECT count(*) AS n FROM alerts WHERE incident_id IN ({marks})"
            " AND status = 'firing'",
            chunk,
        )
        counted.alerts_detached += int(firing["n"])
        (audit,) = intake._rows(
            f"SELECT count(*) AS n FROM audit WHERE incident_id IN ({marks})", chunk
        )
        counted.audit_records += int(audit["n"])
        for table, column, extra in _ROWS:
            if table == _BOOKKEEPING:
                continue
            (row,) = intake._rows(
                "SELECT count(*) AS n " + _rows_of(table, column, extra, chunk), chunk
            )
            counted.rows[table] = counted.rows.get(table, 0) + int(row["n"])
    counted.rows["alerts"] = counted.rows.get("alerts", 0) - counted.alerts_detached
    return counted


def _audit_count(db: Any, ids: Sequence[str]) -> int:
    row = db.execute(
        f"SELECT count(*) AS n FROM audit WHERE incident_id IN ({_marks(ids)})", ids
    ).fetchone()
    return int(row["n"])


# -- space -----------------------------------------------------------------------------------
async def reclaim_space(
    intake: IntakeStore,
    checkpointer: BaseCheckpointSaver[Any],
    vacuum: Vacuum,
    before: dict[Path, int] | None = None,
) -> list[FileSpace]:
    """Return freed pages to the file system as `vacuum` says, for both SQLite files."""
    checkpoint_file = await _checkpoint_path(checkpointer)
    before = before or _sizes(intake.path, checkpoint_file)
    done = [_reclaim_incident_file(intake, vacuum, before.get(intake.path, 0))]
    if isinstance(checkpointer, AsyncSqliteSaver) and checkpoint_file is not None:
        done.append(
            await _reclaim_checkpoint_file(
                checkpointer, checkpoint_file, vacuum, before.get(checkpoint_file, 0)
            )
        )
    return done


def _reclaim_incident_file(intake: IntakeStore, vacuum: Vacuum, before: int) -> FileSpace:
    def pragma(sql: str) -> list[Any]:
        return [tuple(r) for r in intake._rows(sql)]

    done = _vacuum_steps(int(pragma("PRAGMA auto_vacuum")[0][0]), vacuum)
    if done.script:
        with intake.db.connect() as db:
            db.executescript(done.script)  # type: ignore[attr-defined]  # SQLite's own
    pragma("PRAGMA wal_checkpoint(TRUNCATE)")
    free = int(pragma("PRAGMA freelist_count")[0][0]) * int(pragma("PRAGMA page_size")[0][0])
    return FileSpace(
        path=str(intake.path),
        bytes_before=before,
        bytes_after=_file_bytes(intake.path),
        free_bytes=free,
        vacuum=done.label,
    )


async def _reclaim_checkpoint_file(
    saver: AsyncSqliteSaver, path: Path, vacuum: Vacuum, before: int
) -> FileSpace:
    async def pragma(sql: str) -> list[Any]:
        async with saver.lock:
            with typed_errors():
                cursor = await saver.conn.execute(sql)
                rows = await cursor.fetchall()
                await cursor.close()
        return [tuple(r) for r in rows]

    done = _vacuum_steps(int((await pragma("PRAGMA auto_vacuum"))[0][0]), vacuum)
    if done.script:
        async with saver.lock:
            with typed_errors():
                await saver.conn.executescript(done.script)
    await pragma("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = int((await pragma("PRAGMA freelist_count"))[0][0])
    free = pages * int((await pragma("PRAGMA page_size"))[0][0])
    return FileSpace(
        path=str(path),
        bytes_before=before,
        bytes_after=_file_bytes(path),
        free_bytes=free,
        vacuum=done.label,
    )


class _Steps(BaseModel):
    script: str
    label: str


def _vacuum_steps(auto_vacuum: int, vacuum: Vacuum) -> _Steps:
    """auto_vacuum: 0 none, 1 full, 2 incremental (SQLite's PRAGMA auto_vacuum). Run as a
    script: `incremental_vacuum` frees one page per step, and only a script steps it to the
    end (a plain execute() stops after the first)."""
    if vacuum is Vacuum.FULL:
        return _Steps(script="PRAGMA auto_vacuum = INCREMENTAL; VACUUM;", label="full")
    if vacuum is Vacuum.AUTO and auto_vacuum == 2:
        return _Steps(script="PRAGMA incremental_vacuum;", label="incremental")
    return _Steps(script="", label="none")


async def _checkpoint_path(checkpointer: BaseCheckpointSaver[Any]) -> Path | None:
    if not isinstance(checkpointer, AsyncSqliteSaver):
        return None
    async with checkpointer.lock:
        with typed_errors():
            cursor = await checkpointer.conn.execute("PRAGMA database_list")
            rows = await cursor.fetchall()
            await cursor.close()
    files = [row[2] for row in rows if row[1] == "main" and row[2]]
    return Path(files[0]) if files else None


def _sizes(*paths: Path | None) -> dict[Path, int]:
    return {p: _file_bytes(p) for p in paths if p is not None}


def _file_bytes(path: Path) -> int:
    """The database file with its write-ahead log."""
    total = 0
    for part in (path, path.with_name(path.name + "-wal")):
        with contextlib.suppress(FileNotFoundError):
            total += part.stat().st_size
    return total
