"""What the action ledger needs beyond `started/succeeded/failed`, beside it in the same file.

The ledger itself (`actions`, in incidents.py) holds one row per idempotency key. This
module adds, per key: the dry-run diff shown before execution, the undo the executor
reported, what it touched, the reconcile verdict after a crash, and the one permitted
re-run. It also answers the question rate limits ask: which actions started since when,
across all incidents.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from firstline.domain.action import RemediationAction
from firstline.store.incidents import LedgerEntry
from firstline.store.sqlite import SqliteStore

ACTION_LOG_SCHEMA = """
CREATE TABLE IF NOT EXISTS action_details (
  idempotency_key TEXT PRIMARY KEY,
  dry_run TEXT,
  undo TEXT,
  report TEXT,
  reconcile TEXT,
  reruns INTEGER NOT NULL DEFAULT 0
);
"""


class ActionDetails(BaseModel):
    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    dry_run: str | None = None
    undo: RemediationAction | None = None
    report: dict[str, Any] = {}
    reconcile: str | None = None
    reruns: int = 0


class ActionLog(SqliteStore):
    schema = ACTION_LOG_SCHEMA

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
        entries = [
            LedgerEntry(
                idempotency_key=r["idempotency_key"],
                incident_id=r["incident_id"],
                action=RemediationAction.model_validate_json(r["action"]),
                status=r["status"],
                detail=r["detail"],
                started_at=r["started_at"],
                finished_at=r["finished_at"],
            )
            for r in rows
        ]
        return [e for e in entries if e.started_at >= since]
