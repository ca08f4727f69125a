"""The audit log: an append-only, hash-chained record of every decision and action.

Each record's hash is the SHA-256 of the canonical JSON of the record (seq, at,
incident_id, kind, actor, details, prev_hash), and `prev_hash` is the hash of the record
before it. Changing any field of any record, or removing one, breaks the chain at that
record, and `verify()` names its seq.

The table lives in the incident store's SQLite file. Triggers refuse UPDATE and DELETE, so
firstline itself can only append; someone with write access to the file can drop the
triggers, which is exactly what the chain is there to expose. Removing the *newest*
records (and editing `sqlite_sequence` to match) cannot be seen from the file alone: anchor
the head hash elsewhere (`firstline audit verify --json` prints it) if that matters.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from firstline.store.sqlite import SqliteStore

GENESIS = "0" * 64

AUDIT_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  incident_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  actor TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_incident ON audit (incident_id, seq);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


class AuditKind(StrEnum):
    DECISION = "decision"
    REFUSAL = "refusal"
    ACTION = "action"
    DRY_RUN = "dry_run"
    APPROVAL = "approval"
    UNDO = "undo"
    RECONCILE = "reconcile"


class AuditRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int
    at: str
    incident_id: str
    kind: str
    actor: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class ChainCheck(BaseModel):
    """What `verify()` found: ok, or the first record that does not hold."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    records: int
    head_hash: str
    broken_seq: int | None = None
    error: str = ""


def record_hash(
    seq: int, at: str, incident_id: str, kind: str, actor: str, details: Any, prev_hash: str
) -> str:
    canonical = json.dumps(
        {
            "seq": seq,
            "at": at,
            "incident_id": incident_id,
            "kind": kind,
            "actor": actor,
            "details": details,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class AuditLog(SqliteStore):
    schema = AUDIT_SCHEMA

    def append(
        self,
        incident_id: str,
        kind: AuditKind,
        details: dict[str, Any],
        *,
        actor: str = "firstline",
        at: datetime | None = None,
    ) -> AuditRecord:
        """Append one record."""
        return self.append_all(incident_id, [(kind, details)], actor=actor, at=at)[0]

    def append_all(
        self,
        incident_id: str,
        entries: Sequence[tuple[AuditKind, dict[str, Any]]],
        *,
        actor: str = "firstline",
        at: datetime | None = None,
    ) -> list[AuditRecord]:
        """Append records in one transaction: all of them or none. BEGIN IMMEDIATE
        serialises writers across processes, so two never chain onto the same predecessor."""
        stamp = (at or datetime.now(UTC)).isoformat()
        written: list[AuditRecord] = []
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                last = db.execute(
                    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                seq, prev = (last["seq"], last["hash"]) if last else (0, GENESIS)
                for kind, details in entries:
                    # a JSON round trip, so what is hashed is exactly what verify() reads back
                    clean = json.loads(json.dumps(details, default=str))
                    seq += 1
                    digest = record_hash(seq, stamp, incident_id, kind.value, actor, clean, prev)
                    db.execute(
                        "INSERT INTO audit (seq, at, incident_id, kind, actor, details,"
                        " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (seq, stamp, incident_id, kind.value, actor, _canonical(clean), prev,
                         digest),
                    )  # fmt: skip
                    written.append(
                        AuditRecord(
                            seq=seq,
                            at=stamp,
                            incident_id=incident_id,
                            kind=kind.value,
                            actor=actor,
                            details=clean,
                            prev_hash=prev,
                            hash=digest,
                        )
                    )
                    prev = digest
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return written

    def records(
        self, incident_id: str | None = None, kind: AuditKind | None = None
    ) -> list[AuditRecord]:
        where = [("incident_id = ?", incident_id), ("kind = ?", kind and kind.value)]
        used = [(clause, value) for clause, value in where if value is not None]
        query = "SELECT * FROM audit"
        if used:
            query += " WHERE " + " AND ".join(clause for clause, _ in used)
        args = [value for _, value in used]
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY seq", args).fetchall()
        return [_record(r) for r in rows]

    def verify(self) -> ChainCheck:
        """Walk the whole chain; report the first seq that is missing or does not hash."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM audit ORDER BY seq").fetchall()
            high = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
        prev, expected = GENESIS, 1
        for row in rows:
            problem = _problem(row, expected, prev)
            if problem:
                return ChainCheck(
                    ok=False, records=len(rows), head_hash=prev, broken_seq=expected, error=problem
                )
            prev, expected = row["hash"], expected + 1
        highest = high["seq"] if high else 0
        if highest >= expected:
            return ChainCheck(
                ok=False,
                records=len(rows),
                head_hash=prev,
                broken_seq=expected,
                error=f"record {expected} is missing (records up to {highest} were written)",
            )
        return ChainCheck(ok=True, records=len(rows), head_hash=prev)


def _problem(row: sqlite3.Row, expected: int, prev: str) -> str:
    if row["seq"] != expected:
        return f"record {expected} is missing (next record is {row['seq']})"
    if row["prev_hash"] != prev:
        return f"record {expected}: prev_hash does not match the hash of record {expected - 1}"
    try:
        details = json.loads(row["details"])
    except (TypeError, ValueError):
        return f"record {expected}: details are not valid JSON"
    digest = record_hash(
        row["seq"], row["at"], row["incident_id"], row["kind"], row["actor"], details, prev
    )
    if digest != row["hash"]:
        return f"record {expected}: hash does not match its content (modified)"
    return ""


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _record(row: sqlite3.Row) -> AuditRecord:
    return AuditRecord(
        seq=row["seq"],
        at=row["at"],
        incident_id=row["incident_id"],
        kind=row["kind"],
        actor=row["actor"],
        details=json.loads(row["details"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )
