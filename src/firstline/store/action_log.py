"""The action ledger: one row per idempotency key, and what each action needs beside it.

`actions` holds the key with `started/succeeded/failed`: the key is written before the
executor runs, and its uniqueness constraint (not an in-process lock) makes "record before
execute" hold across processes. `action_details` adds, per key: the dry-run diff shown
before execution, the undo the executor reported, what it touched, the reconcile verdict
after a crash, and the one permitted re-run. The ledger also answers the question rate
limits ask: which actions started since when, across all incidents. Both tables live in the
incident store's SQLite file.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from firstline.domain.action import ActionStatus, RemediationAction
from firstline.store.sqlite import SqliteStore

ACTION_LOG_SCHEMA = """
CREATE TABLE IF NOT EXISTS actions (
  idempotency_key TEXT PRIMARY KEY,
  incident_id TEXT NOT NULL REFERENCES incidents(id),
  action TEXT NOT NULL,
  status TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  started_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX IF NOT EXISTS actions_incident ON actions (incident_id, started_at);
CREATE INDEX IF NOT EXISTS actions_started ON actions (started_at);
CREATE TABLE IF NOT EXISTS action_details (
  idempotency_key TEXT PRIMARY KEY,
  dry_run TEXT,
  undo TEXT,
  report TEXT,
  reconcile TEXT,
  reruns INTEGER NOT NULL DEFAULT 0
);
"""


class LedgerEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    incident_id: str
    action: RemediationAction
    status: str  # started | succeeded | failed
    detail: str
    started_at: datetime
    finished_at: datetime | None


class ActionDetails(BaseModel):
    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    dry_run: str | None = None
    undo: RemediationAction | None = None
    report: dict[str, Any] = {}
    reconcile: str | None = None
    reruns: int = 0


def _now() -> str:
    return datetime.now(UTC).isoformat()


class ActionLog(SqliteStore):
    schema = ACTION_LOG_SCHEMA

    # -- the ledger: one row per key ---------------------------------------------------------
    def entry(self, key: str) -> LedgerEntry | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM actions WHERE idempotency_key = ?", (key,)).fetchone()
        return _entry(row) if row else None

    def entries(self, incident_id: str) -> list[LedgerEntry]:
        """This incident's entries, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM actions WHERE incident_id = ? ORDER BY started_at", (incident_id,)
            ).fetchall()
        return [_entry(r) for r in rows]

    def begin_action(self, key: str, incident_id: str, action: RemediationAction) -> bool:
        """Record the action before it runs. False if any process recorded it already."""
        try:
            with self._connect() as db:
                db.execute(
                    "INSERT INTO actions (idempotency_key, incident_id, action, status,"
                    " started_at) VALUES (?, ?, ?, 'started', ?)",
                    (key, incident_id, action.model_dump_json(), _now()),
                )
        except sqlite3.IntegrityError:
            return False
        return True

    def finish_action(self, key: str, status: ActionStatus, detail: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE actions SET status = ?, detail = ?, finished_at = ?"
                " WHERE idempotency_key = ?",
                (status.value, detail, _now(), key),
            )

    def started_since(self, since: datetime) -> list[LedgerEntry]:
        """Every ledger entry started at or after `since`, any incident, any outcome: an
        attempt counts against a rate limit whether or not it worked."""
        # ISO-8601 UTC strings sort as time; the margin covers formatting differences, the
        # exact comparison below does the rest
        floor = (since - timedelta(seconds=1)).isoformat()
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM actions WHERE started_at >= ? ORDER BY started_at", (floor,)
            ).fetchall()
        return [e for e in (_entry(r) for r in rows) if e.started_at >= since]

    # -- the details beside each key ---------------------------------------------------------
    def _set(self, key: str, column: str, value: str | None) -> None:
        with self._connect() as db:
            db.execute("INSERT OR IGNORE INTO action_details (idempotency_key) VALUES (?)", (key,))
            db.execute(
                f"UPDATE action_details SET {column} = ? WHERE idempotency_key = ?", (value, key)
            )

    def record_dry_run(self, key: str, diff: str) -> None:
        self._set(key, "dry_run", diff)

    def record_outcome(
        self, key: str, undo: RemediationAction | None, report: dict[str, Any]
    ) -> None:
        self._set(key, "undo", undo.model_dump_json() if undo is not None else None)
        self._set(key, "report", json.dumps(report, default=str))

    def record_reconcile(self, key: str, verdict: str) -> None:
        self._set(key, "reconcile", verdict)

    def claim_rerun(self, key: str) -> bool:
        """The single re-run allowed after reconcile said 'not applied'. Atomic, so two
        processes resuming the same incident cannot both re-run it."""
        with self._connect() as db:
            db.execute("INSERT OR IGNORE INTO action_details (idempotency_key) VALUES (?)", (key,))
            cur = db.execute(
                "UPDATE action_details SET reruns = reruns + 1"
                " WHERE idempotency_key = ? AND reruns = 0",
                (key,),
            )
            return cur.rowcount == 1

    def details(self, key: str) -> ActionDetails | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT * FROM action_details WHERE idempotency_key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        return ActionDetails(
            idempotency_key=row["idempotency_key"],
            dry_run=row["dry_run"],
            undo=RemediationAction.model_validate_json(row["undo"]) if row["undo"] else None,
            report=json.loads(row["report"]) if row["report"] else {},
            reconcile=row["reconcile"],
            reruns=row["reruns"],
        )


def _entry(row: sqlite3.Row) -> LedgerEntry:
    finished = row["finished_at"]
    return LedgerEntry(
        idempotency_key=row["idempotency_key"],
        incident_id=row["incident_id"],
        action=RemediationAction.model_validate_json(row["action"]),
        status=row["status"],
        detail=row["detail"],
        started_at=row["started_at"],
        finished_at=datetime.fromisoformat(finished) if finished else None,
    )
