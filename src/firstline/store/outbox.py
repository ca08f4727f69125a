"""The notification outbox: one row per (incident, notifier, event), in the incidents DB.

The graph writes a row and moves on; the delivery worker sends it, with retries, from any
process, after any restart. Rows of one incident and notifier go out in order (PagerDuty
must see the trigger before the resolve; Slack's updates need the first message), so a row
is due only when no earlier row of its chain is still pending.

Claiming takes a lease, so two workers do not send the same row at once; a worker that
dies mid-send leaves a lease that expires, and the row is sent again (at least once: the
vendor's dedup key makes the repeat harmless).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from firstline.store.sqlite import SqliteStore

OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id TEXT NOT NULL,
  notifier TEXT NOT NULL,
  event_key TEXT NOT NULL,
  kind TEXT NOT NULL,
  dedup_key TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  next_attempt_at TEXT NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  delivered_at TEXT,
  receipt TEXT NOT NULL DEFAULT '{}',
  lease_owner TEXT,
  lease_until TEXT,
  UNIQUE (incident_id, notifier, event_key)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_incident ON outbox (incident_id, id);
"""


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up: a person must look (the timeline says why)


class OutboxRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    incident_id: str
    notifier: str
    event_key: str
    kind: str
    dedup_key: str
    payload: str
    status: OutboxStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_error: str
    delivered_at: datetime | None
    receipt: dict[str, str]


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds")


class Outbox(SqliteStore):
    schema = OUTBOX_SCHEMA

    def enqueue(
        self,
        *,
        incident_id: str,
        notifier: str,
        event_key: str,
        kind: str,
        dedup_key: str,
        payload: str,
        now: datetime,
    ) -> bool:
        """Add the row once; False if this event was already queued (a re-run node)."""
        with self._connect() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO outbox (incident_id, notifier, event_key, kind, dedup_key,"
                " payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (incident_id, notifier, event_key, kind, dedup_key, payload, _iso(now), _iso(now)),
            )
            return cur.rowcount == 1

    def claim_due(
        self, *, now: datetime, owner: str, lease_seconds: float, limit: int
    ) -> list[OutboxRow]:
        """Lease the rows that are due and first in their chain."""
        until = _iso(now + timedelta(seconds=lease_seconds))
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                rows = db.execute(
                    "SELECT * FROM outbox o WHERE o.status = 'pending'"
                    " AND o.next_attempt_at <= ?"
                    " AND (o.lease_until IS NULL OR o.lease_until <= ?)"
                    " AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.incident_id = o.incident_id"
                    "   AND e.notifier = o.notifier AND e.id < o.id AND e.status = 'pending')"
                    " ORDER BY o.next_attempt_at, o.id LIMIT ?",
                    (_iso(now), _iso(now), limit),
                ).fetchall()
                db.executemany(
                    "UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id = ?",
                    [(owner, until, r["id"]) for r in rows],
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return [_row(r) for r in rows]

    def mark_delivered(
        self, row_id: int, *, owner: str, now: datetime, receipt: dict[str, str]
    ) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE outbox SET status = 'delivered', attempts = attempts + 1,"
                " delivered_at = ?, receipt = ?, last_error = '', lease_owner = NULL,"
                " lease_until = NULL WHERE id = ? AND lease_owner = ?",
                (_iso(now), json.dumps(receipt), row_id, owner),
            )

    def mark_retry(self, row_id: int, *, owner: str, error: str, next_attempt_at: datetime) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,"
                " lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?",
                (error, _iso(next_attempt_at), row_id, owner),
            )

    def mark_failed(self, row_id: int, *, owner: str, error: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?,"
                " lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?",
                (error, row_id, owner),
            )

    def receipts(self, incident_id: str, notifier: str) -> list[dict[str, str]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT receipt FROM outbox WHERE incident_id = ? AND notifier = ?"
                " AND status = 'delivered' ORDER BY id",
                (incident_id, notifier),
            ).fetchall()
        return [json.loads(r["receipt"]) for r in rows]

    def rows(self, incident_id: str | None = None) -> list[OutboxRow]:
        query, args = "SELECT * FROM outbox", tuple[str, ...]()
        if incident_id is not None:
            query, args = query + " WHERE incident_id = ?", (incident_id,)
        with self._connect() as db:
            return [_row(r) for r in db.execute(query + " ORDER BY id", args).fetchall()]

    def counts(self) -> dict[str, int]:
        """Rows per status, e.g. for a 'pending notifications' gauge."""
        with self._connect() as db:
            found = dict(
                db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
            )
        return {s.value: int(found.get(s.value, 0)) for s in OutboxStatus}

    def next_due_at(self) -> datetime | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'"
            ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None


def _row(r: sqlite3.Row) -> OutboxRow:
    return OutboxRow(
        id=r["id"],
        incident_id=r["incident_id"],
        notifier=r["notifier"],
        event_key=r["event_key"],
        kind=r["kind"],
        dedup_key=r["dedup_key"],
        payload=r["payload"],
        status=OutboxStatus(r["status"]),
        attempts=r["attempts"],
        created_at=r["created_at"],
        next_attempt_at=r["next_attempt_at"],
        last_error=r["last_error"],
        delivered_at=datetime.fromisoformat(r["delivered_at"]) if r["delivered_at"] else None,
        receipt=json.loads(r["receipt"]),
    )
