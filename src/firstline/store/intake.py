"""Received alerts, their grouping into incidents, and the durable investigation queue.

One SQLite transaction per webhook delivery: every alert of the batch is deduplicated,
grouped and committed before the server answers 2xx, so a crash after the answer loses
nothing. WAL with synchronous=NORMAL survives a killed process (the case that matters for
an acknowledged webhook); `durable_fsync=True` adds an fsync per commit for power loss.

Rules (docs/intake.md):
- an alert is keyed by its fingerprint; a repeat of a firing alert updates it;
- a new firing alert (or one firing again after it resolved) joins the open incident of its
  group opened within the group window, or opens a new incident and queues it;
- a resolved alert updates its row; an incident still queued whose alerts have all resolved
  closes as self-resolved and leaves the queue.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from firstline.domain.alert import Alert, AlertStatus
from firstline.domain.incident import IncidentStatus, new_incident_id
from firstline.store.errors import StoreUnavailable, typed_errors
from firstline.store.incidents import INCIDENT_SCHEMA
from firstline.store.sqlite import ensure_parent

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
  fingerprint TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  group_key TEXT NOT NULL,
  incident_id TEXT,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  receipts INTEGER NOT NULL DEFAULT 1,
  alert TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_incident ON alerts (incident_id, status);
CREATE INDEX IF NOT EXISTS alerts_incident_seen ON alerts (incident_id, first_seen);
CREATE TABLE IF NOT EXISTS alert_groups (
  incident_id TEXT PRIMARY KEY,
  group_key TEXT NOT NULL,
  opened_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_groups_key ON alert_groups (group_key, opened_at);
CREATE TABLE IF NOT EXISTS work_queue (
  incident_id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  enqueued_at TEXT NOT NULL,
  claimed_at TEXT,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS work_queue_state ON work_queue (state, enqueued_at);
CREATE TABLE IF NOT EXISTS heartbeat (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  at TEXT NOT NULL
);
"""

# An incident absorbs new alerts of its group until it is over: escalated and recommended
# incidents are in people's hands but not over (they close once every alert resolved), so
# how fast an investigation ends does not decide how many incidents a storm makes.
_OVER = tuple(
    s.value
    for s in IncidentStatus
    if s.final and s not in (IncidentStatus.ESCALATED, IncidentStatus.RECOMMENDED)
)
_OVER_SQL = ", ".join(f"'{s}'" for s in _OVER)


class Outcome(StrEnum):
    """What intake did with one alert; also the `outcome` label of the metric."""

    NEW_INCIDENT = "new_incident"
    JOINED = "joined"
    UPDATED = "updated"
    RESOLVED = "resolved"
    SELF_RESOLVED = "self_resolved"
    RESOLVED_UNKNOWN = "resolved_unknown"


class QueueState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"  # waiting for a person; resumed by an approval
    DONE = "done"
    SELF_RESOLVED = "self_resolved"


@dataclass(frozen=True)
class IngestResult:
    outcomes: list[Outcome]
    incidents: list[str] = field(default_factory=list)
    """Incident ids touched, in alert order (empty string for none)."""

    def count(self, outcome: Outcome) -> int:
        return sum(1 for o in self.outcomes if o is outcome)


class IntakeStore:
    """Thread-confined connections (one per thread), reused across calls for speed.

    Every method raises StoreBusy or StoreUnavailable (store/errors.py) when the database
    fails; a connection that failed as unavailable is dropped, so the next call reopens the
    file and the store recovers on its own once the file is writable again."""

    def __init__(
        self, path: Path, *, busy_timeout_seconds: float = 5.0, durable_fsync: bool = False
    ) -> None:
        self.path = path
        self.busy_timeout_ms = int(busy_timeout_seconds * 1000)
        self.durable_fsync = durable_fsync
        self._local = threading.local()
        ensure_parent(path)
        # the incidents and timeline tables are IncidentStore's (same file); intake writes
        # rows in them so that one transaction covers alert, incident and queue entry
        with self._typed():
            self._db().executescript(INCIDENT_SCHEMA + _SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={'FULL' if self.durable_fsync else 'NORMAL'}")
            db.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")
            self._local.db = db
        return db

    def close(self) -> None:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    @contextmanager
    def _typed(self) -> Iterator[None]:
        try:
            with typed_errors():
                yield
        except StoreUnavailable:
            self.close()  # a fresh connection next time, once the file is usable again
            raise

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._typed():
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite may have rolled back already (disk full)
                    db.execute("ROLLBACK")
                raise

    def _rows(self, sql: str, args: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._typed():
            return self._db().execute(sql, args).fetchall()

    # -- ingest ------------------------------------------------------------------------------
    def ingest(
        self,
        alerts: Sequence[Alert],
        group_keys: Sequence[str],
        *,
        now: datetime,
        group_window: timedelta,
    ) -> IngestResult:
        """Store a delivery's alerts in one transaction, all or nothing; raises StoreBusy
        when the database stays locked past the busy timeout (the server answers 429) and
        StoreUnavailable when it cannot be written (503)."""
        outcomes: list[Outcome] = []
        incidents: list[str] = []
        stamp = now.isoformat()
        with self._transaction() as db:
            batch = _Delivery(db, stamp, now - group_window)
            for alert, group_key in zip(alerts, group_keys, strict=True):
                outcome, incident = batch.ingest(alert, group_key)
                outcomes.append(outcome)
                incidents.append(incident or "")
            batch.record_joins()
        return IngestResult(outcomes, incidents)

    # -- queue ---------------------------------------------------------------------------------
    def claim_next(self, now: datetime) -> tuple[str, int] | None:
        """The oldest queued incident, marked running; with its attempt number."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT incident_id FROM work_queue WHERE state = 'queued'"
                " ORDER BY enqueued_at LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            cur = db.execute(
                "UPDATE work_queue SET state = 'running', claimed_at = ?, attempts = attempts + 1"
                " WHERE incident_id = ? RETURNING attempts",
                (now.isoformat(), row["incident_id"]),
            )
            attempts = int(cur.fetchone()["attempts"])
        return row["incident_id"], attempts

    def set_queue_state(self, incident_id: str, state: QueueState, now: datetime) -> None:
        """Record where a run stopped; a concluded run whose alerts have all resolved in the
        meantime is closed at once."""
        # A run only becomes 'paused' from 'running': an approval may already have resumed
        # it to the end (through the API) before the worker got round to recording the pause.
        guard = " AND state = 'running'" if state is QueueState.PAUSED else ""
        with self._transaction() as db:
            db.execute(
                f"UPDATE work_queue SET state = ? WHERE incident_id = ?{guard}",
                (state.value, incident_id),
            )
            if state is QueueState.DONE:
                _close_if_all_resolved(db, incident_id, now.isoformat())

    def release(self, incident_id: str) -> None:
        """Give a claimed run back to the queue without counting the attempt: it stopped
        because the store failed, not because of the incident."""
        with self._transaction() as db:
            db.execute(
                "UPDATE work_queue SET state = 'queued', attempts = max(attempts - 1, 0)"
                " WHERE incident_id = ? AND state = 'running'",
                (incident_id,),
            )

    def requeue_interrupted(self) -> list[str]:
        """After a restart: runs that were in progress when the process died go back to the
        queue (their checkpoints let them continue where they stopped)."""
        with self._transaction() as db:
            rows = db.execute(
                "UPDATE work_queue SET state = 'queued' WHERE state = 'running'"
                " RETURNING incident_id"
            ).fetchall()
        return [r["incident_id"] for r in rows]

    def incidents_in(self, state: QueueState) -> list[str]:
        rows = self._rows(
            "SELECT incident_id FROM work_queue WHERE state = ? ORDER BY enqueued_at",
            (state.value,),
        )
        return [r["incident_id"] for r in rows]

    def queue_depth(self) -> dict[str, int]:
        rows = self._rows("SELECT state, count(*) AS n FROM work_queue GROUP BY state")
        return {r["state"]: int(r["n"]) for r in rows}

    def queue_entry(self, incident_id: str) -> tuple[str, int] | None:
        rows = self._rows(
            "SELECT state, attempts FROM work_queue WHERE incident_id = ?", (incident_id,)
        )
        return (rows[0]["state"], int(rows[0]["attempts"])) if rows else None

    # -- reads ---------------------------------------------------------------------------------
    def alerts_of(self, incident_id: str) -> list[Alert]:
        rows = self._rows(
            "SELECT alert FROM alerts WHERE incident_id = ? ORDER BY first_seen, rowid",
            (incident_id,),
        )
        return [Alert.model_validate_json(r["alert"]) for r in rows]

    def primary_alert(self, incident_id: str) -> Alert | None:
        rows = self._rows(
            "SELECT a.alert FROM incidents i JOIN alerts a ON a.fingerprint = i.fingerprint"
            " WHERE i.id = ?",
            (incident_id,),
        )
        return Alert.model_validate_json(rows[0]["alert"]) if rows else None

    def alert_counts(self) -> tuple[int, int]:
        """(distinct alerts stored, total receipts), for count checks."""
        (row,) = self._rows("SELECT count(*) AS n, sum(receipts) AS r FROM alerts")
        return int(row["n"]), int(row["r"] or 0)

    def ping(self, now: datetime) -> None:
        """Readiness: the store can be read and written (one row is rewritten and
        committed, so a read-only, full or failing store is not reported ready)."""
        self._rows("SELECT 1 FROM work_queue LIMIT 1")
        with self._transaction() as db:
            db.execute(
                "INSERT INTO heartbeat (id, at) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET at = excluded.at",
                (now.isoformat(),),
            )


class _Delivery:
    """One delivery's transaction. Group lookups are cached for the batch, and the alerts
    that joined an incident are summarised in one timeline entry per incident, so an alert
    storm costs a few statements per alert, not a dozen."""

    def __init__(self, db: sqlite3.Connection, stamp: str, window_start: datetime) -> None:
        self.db = db
        self.stamp = stamp
        self.window_start = window_start
        self.groups: dict[str, str | None] = {}
        self.joined: dict[str, list[Alert]] = {}

    def ingest(self, alert: Alert, group_key: str) -> tuple[Outcome, str | None]:
        db, stamp = self.db, self.stamp
        row = db.execute(
            "SELECT status, incident_id FROM alerts WHERE fingerprint = ?", (alert.fingerprint,)
        ).fetchone()
        body = alert.model_dump_json()
        if alert.status is AlertStatus.RESOLVED:
            return _resolve(db, alert, row, group_key, stamp, body)
        if row is not None and row["status"] == AlertStatus.FIRING.value:
            # A repeat (Alertmanager re-sends firing alerts every group/repeat interval): an
            # update, never a second investigation, even when the incident already concluded.
            db.execute(
                "UPDATE alerts SET last_seen = ?, receipts = receipts + 1, alert = ?"
                " WHERE fingerprint = ?",
                (stamp, body, alert.fingerprint),
            )
            return Outcome.UPDATED, row["incident_id"]
        if group_key not in self.groups:
            self.groups[group_key] = _open_incident_of_group(db, group_key, self.window_start)
        incident = self.groups[group_key]
        outcome = Outcome.JOINED
        if incident is None:
            incident = _new_incident(db, alert, group_key, stamp)
            self.groups[group_key] = incident
            outcome = Outcome.NEW_INCIDENT
        else:
            self.joined.setdefault(incident, []).append(alert)
        db.execute(
            "INSERT INTO alerts (fingerprint, source, name, status, group_key, incident_id,"
            " first_seen, last_seen, alert) VALUES (?, ?, ?, 'firing', ?, ?, ?, ?, ?)"
            " ON CONFLICT (fingerprint) DO UPDATE SET status = 'firing',"
            " incident_id = excluded.incident_id, group_key = excluded.group_key,"
            " last_seen = excluded.last_seen, receipts = receipts + 1, alert = excluded.alert",
            (alert.fingerprint, alert.source, alert.name, group_key, incident, stamp, stamp, body),
        )
        return outcome, incident

    def record_joins(self) -> None:
        for incident, alerts in self.joined.items():
            shown = "; ".join(f"{a.name} {_label_text(a)}" for a in alerts[:3])
            more = f" and {len(alerts) - 3} more" if len(alerts) > 3 else ""
            event = (
                "related alert joined"
                if len(alerts) == 1
                else f"{len(alerts)} related alerts joined"
            )
            _timeline(
                self.db, incident, f"intake.joined.{alerts[0].fingerprint}.{self.stamp}",
                self.stamp, event, shown + more,
            )  # fmt: skip


def _resolve(
    db: sqlite3.Connection,
    alert: Alert,
    row: sqlite3.Row | None,
    group_key: str,
    stamp: str,
    body: str,
) -> tuple[Outcome, str | None]:
    if row is None:
        db.execute(
            "INSERT INTO alerts (fingerprint, source, name, status, group_key, incident_id,"
            " first_seen, last_seen, alert) VALUES (?, ?, ?, 'resolved', ?, NULL, ?, ?, ?)",
            (alert.fingerprint, alert.source, alert.name, group_key, stamp, stamp, body),
        )
        return Outcome.RESOLVED_UNKNOWN, None
    db.execute(
        "UPDATE alerts SET status = 'resolved', last_seen = ?, receipts = receipts + 1, alert = ?"
        " WHERE fingerprint = ?",
        (stamp, body, alert.fingerprint),
    )
    incident: str | None = row["incident_id"]
    if incident is None:
        return Outcome.RESOLVED, None
    if row["status"] == AlertStatus.FIRING.value:
        _timeline(
            db, incident, f"intake.resolved.{alert.fingerprint}.{stamp}", stamp,
            "alert resolved", f"{alert.name} {_label_text(alert)}",
        )  # fmt: skip
    if _close_if_all_resolved(db, incident, stamp) is Outcome.SELF_RESOLVED:
        return Outcome.SELF_RESOLVED, incident
    return Outcome.RESOLVED, incident


def _close_if_all_resolved(db: sqlite3.Connection, incident: str, stamp: str) -> Outcome | None:
    """Close an incident whose alerts have all resolved: self-resolved when it was still
    queued, closed when its investigation had already escalated or recommended. A run in
    progress or waiting for approval is left alone: verification or a person decides."""
    still_firing = db.execute(
        "SELECT 1 FROM alerts WHERE incident_id = ? AND status = 'firing' LIMIT 1", (incident,)
    ).fetchone()
    if still_firing is not None:
        return None
    cur = db.execute(
        "UPDATE work_queue SET state = 'self_resolved' WHERE incident_id = ? AND state = 'queued'",
        (incident,),
    )
    if cur.rowcount == 1:
        _set_status(db, incident, IncidentStatus.SELF_RESOLVED, stamp,
                    "every alert resolved before the investigation started")  # fmt: skip
        return Outcome.SELF_RESOLVED
    cur = db.execute(
        "UPDATE incidents SET status = ?, updated_at = ? WHERE id = ? AND status IN (?, ?)"
        " AND EXISTS (SELECT 1 FROM work_queue WHERE incident_id = ? AND state = 'done')",
        (IncidentStatus.CLOSED.value, stamp, incident, IncidentStatus.ESCALATED.value,
         IncidentStatus.RECOMMENDED.value, incident),
    )  # fmt: skip
    if cur.rowcount == 1:
        _timeline(db, incident, "intake.closed", stamp, "closed", "every alert resolved")
        return Outcome.RESOLVED
    return None


def _set_status(
    db: sqlite3.Connection, incident: str, status: IncidentStatus, stamp: str, why: str
) -> None:
    db.execute(
        "UPDATE incidents SET status = ?, updated_at = ?, summary = ? WHERE id = ?",
        (status.value, stamp, why, incident),
    )
    _timeline(db, incident, f"intake.{status.value}", stamp, status.value.replace("_", "-"), why)


def _open_incident_of_group(
    db: sqlite3.Connection, group_key: str, window_start: datetime
) -> str | None:
    row = db.execute(
        "SELECT g.incident_id FROM alert_groups g JOIN incidents i ON i.id = g.incident_id"
        f" WHERE g.group_key = ? AND g.opened_at >= ? AND i.status NOT IN ({_OVER_SQL})"
        " ORDER BY g.opened_at DESC LIMIT 1",
        (group_key, window_start.isoformat()),
    ).fetchone()
    return row["incident_id"] if row else None


def _new_incident(db: sqlite3.Connection, alert: Alert, group_key: str, stamp: str) -> str:
    incident = new_incident_id(datetime.fromisoformat(stamp))
    db.execute(
        "INSERT INTO incidents (id, alert_name, fingerprint, status, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (incident, alert.name, alert.fingerprint, IncidentStatus.OPEN.value, stamp, stamp),
    )
    db.execute(
        "INSERT INTO alert_groups (incident_id, group_key, opened_at) VALUES (?, ?, ?)",
        (incident, group_key, stamp),
    )
    db.execute(
        "INSERT INTO work_queue (incident_id, state, enqueued_at) VALUES (?, 'queued', ?)",
        (incident, stamp),
    )
    _timeline(
        db, incident, "intake.received", stamp, "alert received",
        f"{alert.name} from {alert.source} {_label_text(alert)}",
    )  # fmt: skip
    return incident


def _timeline(
    db: sqlite3.Connection, incident: str, key: str, stamp: str, event: str, detail: str
) -> None:
    db.execute(
        "INSERT OR IGNORE INTO timeline (incident_id, key, at, stage, event, detail)"
        " VALUES (?, ?, ?, 'intake', ?, ?)",
        (incident, key, stamp, event, detail),
    )


def _label_text(alert: Alert) -> str:
    shown = {k: v for k, v in sorted(alert.labels.items()) if k != "alertname"}
    return "{" + ", ".join(f"{k}={v}" for k, v in list(shown.items())[:8]) + "}"
