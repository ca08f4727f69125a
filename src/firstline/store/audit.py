"""The audit log: an append-only, hash-chained record of every decision and action.

Each record's hash is the SHA-256 of the canonical JSON of the record (seq, at,
incident_id, kind, actor, details, prev_hash), and `prev_hash` is the hash of the record
before it. Changing any field of any record, or removing one, breaks the chain at that
record, and `verify()` names its seq. `details` are stored in canonical form (sorted keys,
no spaces) and a record whose stored text is not exactly that form (a duplicate key, which
SQLite's json_extract and Python read differently, extra spaces, another key order) fails.

The head of the chain (record count and newest hash) is kept in `audit_head`, written in
the same transaction as every append, so removing the newest records, truncating the
table or dropping it (firstline recreates it empty) is seen too. The head is also shown on
/metrics and logged by the server after each run: shipped elsewhere, it is an external anchor that
`verify(anchor=...)` checks, which catches even a consistent rewrite of table and head.

The table lives in the incident store's database. Triggers refuse UPDATE and DELETE, so
firstline itself can only append; someone with write access to the database can drop the
triggers, which is exactly what the chain is there to expose.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from firstline.errors import InvalidValue
from firstline.store.database import Database, Dialect, Row, table_exists
from firstline.store.migrations import AUDIT_TABLES
from firstline.store.tables import TableStore

GENESIS = "0" * 64


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


class Head(BaseModel):
    """The chain's head: how many records, and the newest one's hash."""

    model_config = ConfigDict(frozen=True)

    count: int
    hash: str

    @property
    def anchor(self) -> str:
        """The external-anchor form, `<count>:<hash>`, that `verify --anchor` takes."""
        return f"{self.count}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        count, sep, digest = text.partition(":")
        if not sep or not count.isdigit() or len(digest) != 64:
            raise InvalidValue(f"an anchor is <count>:<64 hex digits>, not {text!r}")
        return cls(count=int(count), hash=digest.lower())


class DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKey(key)
        seen[key] = value
    return seen


def parse_canonical(text: str) -> Any:
    """Parse stored details: JSON without duplicate keys, in exactly the canonical form."""
    value = json.loads(text, object_pairs_hook=_no_duplicates)
    if _canonical(value) != text:
        raise ValueError("not in canonical form")
    return value


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


# The highest seq ever written: SQLite keeps it apart from the rows (so removing the
# newest rows shows); PostgreSQL has no such record beside the table and the head.
_HIGHEST = {
    Dialect.SQLITE: "SELECT seq FROM sqlite_sequence WHERE name = 'audit'",
    Dialect.POSTGRESQL: "SELECT coalesce(max(seq), 0) AS seq FROM audit",
}


class AuditLog(TableStore):
    def __init__(self, where: Database | Path) -> None:
        super().__init__(where)
        # A dropped table comes back empty, so that verify() reports the loss against the
        # head instead of every command failing on a missing table.
        with self._connect() as db:
            present = table_exists(db, self.db.dialect, "audit")
        if not present:
            with self._transaction() as db:
                for statement in AUDIT_TABLES[self.db.dialect]:
                    db.execute(statement)

    def head(self) -> Head | None:
        """The recorded head (None only if its row was removed behind firstline's back)."""
        with self._connect() as db:
            row = db.execute("SELECT count, hash FROM audit_head WHERE id = 1").fetchone()
        return Head(count=row["count"], hash=row["hash"]) if row else None

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
        """Append records in one transaction: all of them or none. Writers are serialised
        across processes and replicas, so two never chain onto the same predecessor."""
        stamp = (at or datetime.now(UTC)).isoformat()
        written: list[AuditRecord] = []
        with self._transaction() as db:
            self.db.serialize(db, "firstline.audit")
            last = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
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
            db.execute(
                "INSERT INTO audit_head (id, count, hash) VALUES (1, ?, ?) ON CONFLICT (id)"
                " DO UPDATE SET count = excluded.count, hash = excluded.hash",
                (seq, prev),
            )
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

    def verify(self, anchor: Head | None = None) -> ChainCheck:
        """Walk the whole chain; report the first seq that is missing or does not hash,
        then check the chain against its head record and, if given, an external anchor."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM audit ORDER BY seq").fetchall()
            high = db.execute(_HIGHEST[self.db.dialect]).fetchone()
            head = db.execute("SELECT count, hash FROM audit_head WHERE id = 1").fetchone()
        prev, expected = GENESIS, 1
        hashes: list[str] = []
        for row in rows:
            problem = _problem(row, expected, prev)
            if problem:
                return ChainCheck(
                    ok=False, records=len(rows), head_hash=prev, broken_seq=expected, error=problem
                )
            prev, expected = row["hash"], expected + 1
            hashes.append(prev)

        highest = high["seq"] if high else 0
        found = _against_head(len(rows), prev, highest, head) or _against_anchor(hashes, anchor)
        if found is not None:
            seq, error = found
            return ChainCheck(
                ok=False, records=len(rows), head_hash=prev, broken_seq=seq, error=error
            )
        return ChainCheck(ok=True, records=len(rows), head_hash=prev)


def _against_head(
    records: int, prev: str, highest: int, head: Row | None
) -> tuple[int, str] | None:
    """Where an intact chain disagrees with what was written: SQLite's own sequence and
    the head record (both in the file)."""
    if highest > records:
        return (
            records + 1,
            f"record {records + 1} is missing (records up to {highest} were written)",
        )
    if head is None:
        return records + 1, "the head record is missing (audit_head was emptied)"
    count, digest = int(head["count"]), str(head["hash"])
    if count > records:
        if records == 0:
            return (
                1,
                f"the audit table is empty but the head records {count} (truncated or dropped)",
            )
        return (
            records + 1,
            f"records {records + 1} to {count} are missing (the head records {count})",
        )
    if count < records:
        return count + 1, f"records {count + 1} to {records} were not appended by firstline"
    if digest != prev:
        return records, f"record {records} does not match the head hash (rewritten)"
    return None


def _against_anchor(hashes: list[str], anchor: Head | None) -> tuple[int, str] | None:
    """An anchor shipped elsewhere earlier: the chain must still hold that hash there."""
    if anchor is None or anchor.count == 0:
        return None
    if anchor.count > len(hashes) or hashes[anchor.count - 1] != anchor.hash:
        seq = min(anchor.count, len(hashes) + 1)
        return seq, f"record {anchor.count} is not the anchored one (rewritten or removed)"
    return None


def _problem(row: Row, expected: int, prev: str) -> str:
    if row["seq"] != expected:
        return f"record {expected} is missing (next record is {row['seq']})"
    if row["prev_hash"] != prev:
        return f"record {expected}: prev_hash does not match the hash of record {expected - 1}"
    try:
        details = parse_canonical(row["details"])
    except DuplicateKey as exc:
        return f"record {expected}: details repeat the key {exc} (edited)"
    except (TypeError, ValueError):
        return f"record {expected}: details are not canonical JSON (edited)"
    digest = record_hash(
        row["seq"], row["at"], row["incident_id"], row["kind"], row["actor"], details, prev
    )
    if digest != row["hash"]:
        return f"record {expected}: hash does not match its content (modified)"
    return ""


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _record(row: Row) -> AuditRecord:
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
