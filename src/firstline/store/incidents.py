"""The store of incidents, timelines and approval decisions (the action ledger is beside
it in the same database: store/action_log.py).

Every write is its own short transaction, so another process (a CLI approval, a worker)
sees it at once. A uniqueness constraint, not an in-process lock, makes "first decision
wins" hold across processes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from firstline.domain.incident import IncidentStatus, IncidentSummary, TimelineEntry
from firstline.errors import InvalidInput, NotFound
from firstline.store.database import Dialect, Row
from firstline.store.filters import NO_FILTERS, ListFilters
from firstline.store.tables import TableStore

# what an IncidentSummary is built from: never the snapshot (tens of KB a row)
SUMMARY_COLUMNS = "id, alert_name, severity, status, created_at, updated_at, summary"


class UnknownIncident(NotFound, LookupError):
    """No incident has this id (HTTP 404)."""

    def __init__(self, incident_id: str) -> None:
        super().__init__(f"no incident with id {incident_id!r}")


class AmbiguousIncidentId(InvalidInput, ValueError):
    """Several incidents' ids begin with what was given."""

    def __init__(self, prefix: str, count: int) -> None:
        super().__init__(f"{prefix!r} is the start of {count} incidents' ids: give more of the id")
        self.count = count


# The ids that begin with a prefix, as a range in byte order served by an index: on SQLite
# the primary key's (BINARY collation); on PostgreSQL, whose primary key follows the
# database's collation, the text_pattern_ops index with its byte-order operators
# (store/migrations.py), which a generic plan of a prepared statement uses too.
_ID_RANGE = {
    Dialect.SQLITE: "id >= ? AND id < ?",
    Dialect.POSTGRESQL: "id ~>=~ ? AND id ~<~ ?",
}
_BYTE_ORDER = {Dialect.SQLITE: "id", Dialect.POSTGRESQL: 'id COLLATE "C"'}


def _id_range(prefix: str) -> tuple[str, str]:
    """Every string that begins with the prefix sorts at or after it and before the prefix
    with its last character one higher."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


class ApprovalRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident_id: str
    round: int
    requested_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None
    approved: bool | None = None
    decided_by: str | None = None
    channel: str | None = None
    comment: str | None = None

    @property
    def decided(self) -> bool:
        return self.decided_at is not None


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class IncidentStore(TableStore):
    # -- incidents -----------------------------------------------------------------------
    def create(
        self,
        incident_id: str,
        alert_name: str,
        fingerprint: str,
        scenario_path: Path | None,
    ) -> None:
        now = _now()
        with self._connect() as db:
            db.execute(
                "INSERT INTO incidents (id, alert_name, fingerprint, status, created_at,"
                " updated_at, scenario_path) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    incident_id,
                    alert_name,
                    fingerprint,
                    IncidentStatus.OPEN.value,
                    now,
                    now,
                    str(scenario_path.resolve()) if scenario_path else None,
                ),
            )

    def update(
        self,
        incident_id: str,
        *,
        status: IncidentStatus | None = None,
        severity: str | None = None,
        summary: str | None = None,
    ) -> None:
        sets, args = ["updated_at = ?"], [_now()]
        for column, value in (("status", status), ("severity", severity), ("summary", summary)):
            if value is not None:
                sets.append(f"{column} = ?")
                args.append(str(value))
        with self._connect() as db:
            db.execute(f"UPDATE incidents SET {', '.join(sets)} WHERE id = ?", (*args, incident_id))

    def save_snapshot(
        self, incident_id: str, snapshot: dict[str, Any], status: IncidentStatus | None = None
    ) -> None:
        """The run's state, with its final status in the same statement: an incident is
        never final without the snapshot that says how it ended."""
        with self._connect() as db:
            db.execute(
                "UPDATE incidents SET snapshot = ?, status = COALESCE(?, status), updated_at = ?"
                " WHERE id = ?",
                (
                    json.dumps(snapshot, default=str),
                    str(status) if status is not None else None,
                    _now(),
                    incident_id,
                ),
            )

    def _row(self, incident_id: str) -> Row:
        with self._connect() as db:
            row = db.execute("SELECT * FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        if row is None:
            raise UnknownIncident(incident_id)
        return row  # type: ignore[no-any-return]

    def summary(self, incident_id: str) -> IncidentSummary:
        with self._connect() as db:
            row = db.execute(
                f"SELECT {SUMMARY_COLUMNS} FROM incidents WHERE id = ?", (incident_id,)
            ).fetchone()
        if row is None:
            raise UnknownIncident(incident_id)
        return _summary(row)

    def snapshot(self, incident_id: str) -> dict[str, Any]:
        raw = self._row(incident_id)["snapshot"]
        return json.loads(raw) if raw else {}

    def scenario_path(self, incident_id: str) -> Path | None:
        raw = self._row(incident_id)["scenario_path"]
        return Path(raw) if raw else None

    def list_incidents(
        self,
        limit: int = 50,
        status: IncidentStatus | None = None,
        filters: ListFilters = NO_FILTERS,
    ) -> list[IncidentSummary]:
        # newest first along incidents_created (or incidents_status_created): the LIMIT stops
        # the walk, so a filter that matches often costs little and one that matches rarely
        # costs one pass over the index, never a sort
        clauses, args = filters.where(self.db.dialect)
        if status is not None:
            clauses.insert(0, "status = ?")
            args.insert(0, status.value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {SUMMARY_COLUMNS} FROM incidents {where} ORDER BY created_at DESC LIMIT ?",
                (*args, limit),
            ).fetchall()
        return [_summary(r) for r in rows]

    def ids_with_prefix(self, prefix: str, limit: int = 2) -> tuple[list[str], int]:
        """The first `limit` ids (in byte order: an id before the longer ones it begins)
        that begin with `prefix`, and how many do; both read from an index, never a scan."""
        if not prefix:
            raise InvalidInput("an incident id cannot be empty")
        where, args = _ID_RANGE[self.db.dialect], _id_range(prefix)
        with self._connect() as db:
            rows = db.execute(
                f"SELECT id FROM incidents WHERE {where}"
                f" ORDER BY {_BYTE_ORDER[self.db.dialect]} LIMIT ?",
                (*args, limit),
            ).fetchall()
            ids = [r["id"] for r in rows]
            if len(ids) < limit:
                return ids, len(ids)
            count = db.execute(
                f"SELECT count(id) AS n FROM incidents WHERE {where}", args
            ).fetchone()["n"]
        return ids, int(count)

    def resolve_id(self, given: str) -> str:
        """The incident `given` names: an id, or the start of exactly one id. Raises
        UnknownIncident when none begins with it, AmbiguousIncidentId when several do
        (an id that is itself the start of longer ones still names itself)."""
        ids, count = self.ids_with_prefix(given)
        if not ids:
            raise UnknownIncident(given)
        if ids[0] == given or count == 1:
            return ids[0]
        raise AmbiguousIncidentId(given, count)

    # -- timeline ------------------------------------------------------------------------
    def append_timeline(self, incident_id: str, entries: list[TimelineEntry]) -> None:
        """Idempotent: an entry whose key is already stored is ignored (resumed nodes re-run)."""
        with self._connect() as db:
            db.executemany(
                "INSERT INTO timeline (incident_id, key, at, stage, event, detail)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [
                    (incident_id, e.key, e.at.isoformat(), e.stage, e.event, e.detail)
                    for e in entries
                ],
            )

    def timeline(self, incident_id: str) -> list[TimelineEntry]:
        self.summary(incident_id)  # UnknownIncident, without reading the snapshot
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM timeline WHERE incident_id = ? ORDER BY seq", (incident_id,)
            ).fetchall()
        return [
            TimelineEntry(
                key=r["key"], at=r["at"], stage=r["stage"], event=r["event"], detail=r["detail"]
            )
            for r in rows
        ]

    # -- approvals -------------------------------------------------------------------------
    def open_approval(
        self, incident_id: str, round_: int, requested_at: datetime, expires_at: datetime
    ) -> tuple[ApprovalRecord, bool]:
        """Create the request for this round once; later calls return the stored one.
        The flag says whether this call created it."""
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO approvals (incident_id, round, requested_at, expires_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (incident_id, round_, requested_at.isoformat(), expires_at.isoformat()),
            )
        record = self.approval(incident_id, round_)
        assert record is not None
        return record, cur.rowcount == 1

    def approval(self, incident_id: str, round_: int | None = None) -> ApprovalRecord | None:
        query = "SELECT * FROM approvals WHERE incident_id = ?"
        args: tuple[Any, ...] = (incident_id,)
        if round_ is not None:
            query += " AND round = ?"
            args = (incident_id, round_)
        with self._connect() as db:
            row = db.execute(query + " ORDER BY round DESC LIMIT 1", args).fetchone()
        return _approval(row) if row else None

    def claim_decision(
        self,
        incident_id: str,
        round_: int,
        *,
        approved: bool,
        by: str,
        channel: str,
        comment: str,
    ) -> bool:
        """Atomically record the first decision for this round. False if one exists."""
        with self._connect() as db:
            cur = db.execute(
                "UPDATE approvals SET decided_at = ?, approved = ?, decided_by = ?, channel = ?,"
                " comment = ? WHERE incident_id = ? AND round = ? AND decided_at IS NULL",
                (_now(), int(approved), by, channel, comment, incident_id, round_),
            )
            return cur.rowcount == 1

    def decided_but_waiting(self) -> list[str]:
        """Incidents whose approval was decided while the incident still waits for it: the
        process that claimed the decision died before resuming the run (any channel, and
        whether or not the server's queue knows the incident)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT DISTINCT a.incident_id FROM approvals a JOIN incidents i"
                " ON i.id = a.incident_id WHERE a.decided_at IS NOT NULL AND i.status = ?"
                " ORDER BY a.incident_id",
                (IncidentStatus.AWAITING_APPROVAL.value,),
            ).fetchall()
        return [r["incident_id"] for r in rows]

    def pending_approvals(self) -> list[ApprovalRecord]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM approvals WHERE decided_at IS NULL ORDER BY expires_at"
            ).fetchall()
        return [_approval(r) for r in rows]


def _summary(row: Row) -> IncidentSummary:
    return IncidentSummary(
        id=row["id"],
        alert_name=row["alert_name"],
        severity=row["severity"],
        status=IncidentStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        summary=row["summary"],
    )


def _approval(row: Row) -> ApprovalRecord:
    approved = row["approved"]
    return ApprovalRecord(
        incident_id=row["incident_id"],
        round=row["round"],
        requested_at=row["requested_at"],
        expires_at=row["expires_at"],
        decided_at=_ts(row["decided_at"]),
        approved=None if approved is None else bool(approved),
        decided_by=row["decided_by"],
        channel=row["channel"],
        comment=row["comment"],
    )
