"""Received alerts, their grouping into incidents, and the durable investigation queue.

One transaction per webhook delivery: every alert of the batch is deduplicated,
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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from firstline.domain.alert import Alert, AlertStatus
from firstline.domain.incident import IncidentStatus, new_incident_id
from firstline.store.database import (
    Connection,
    Database,
    Dialect,
    ManyRows,
    Row,
    SqliteDatabase,
    in_chunks,
    placeholders,
)
from firstline.store.filters import workload_of
from firstline.store.leases import DEFAULT_LEASE_SECONDS, LOCAL_OWNER
from firstline.store.tables import TableStore

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


class IntakeStore(TableStore):
    """On SQLite, one connection per thread, reused across calls for speed.

    Every method raises StoreBusy or StoreUnavailable (store/errors.py) when the database
    fails; the store recovers on its own once the database can be written again."""

    def __init__(
        self,
        where: Database | Path,
        *,
        busy_timeout_seconds: float = 5.0,
        durable_fsync: bool = False,
    ) -> None:
        if isinstance(where, Path):
            where = SqliteDatabase(
                where,
                busy_timeout_seconds=busy_timeout_seconds,
                durable_fsync=durable_fsync,
                per_thread=True,
            )
        super().__init__(where)

    def close(self) -> None:
        """Let go of this thread's SQLite connection. A PostgreSQL pool belongs to whoever
        opened it (store/open.py shares one per process) and stays open."""
        if isinstance(self.db, SqliteDatabase):
            self.db.close()

    def _rows(self, sql: str, args: Sequence[object] = ()) -> list[Row]:
        with self._connect() as db:
            return list(db.execute(sql, args).fetchall())

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
            # replicas storing deliveries of one group at once would each open an incident
            self.db.serialize(db, *(group_lock_key(key) for key in group_keys))
            batch = _Delivery(db, self.db.dialect, stamp, now - group_window, alerts, group_keys)
            for alert, group_key in zip(alerts, group_keys, strict=True):
                outcome, incident = batch.ingest(alert, group_key)
                outcomes.append(outcome)
                incidents.append(incident or "")
            batch.record_joins()
        return IngestResult(outcomes, incidents)

    # -- queue ---------------------------------------------------------------------------------
    def claim_next(
        self,
        now: datetime,
        *,
        owner: str = LOCAL_OWNER,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> tuple[str, int] | None:
        """The next incident to investigate, leased to `owner` until now + lease_seconds,
        with its attempt number: first a run whose worker stopped renewing its lease (it
        died, or lost the store), then the oldest queued one. A replica never claims a row
        another one is claiming (SKIP LOCKED on PostgreSQL, the write lock on SQLite)."""
        stamp = now.isoformat()
        with self._transaction() as db:
            row = (
                db.execute(
                    "SELECT incident_id FROM work_queue WHERE state = 'running'"
                    " AND lease_until IS NOT NULL AND lease_until <= ?"
                    " ORDER BY lease_until LIMIT 1" + self.db.skip_locked,
                    (stamp,),
                ).fetchone()
                or db.execute(
                    "SELECT incident_id FROM work_queue WHERE state = 'queued'"
                    " ORDER BY enqueued_at LIMIT 1" + self.db.skip_locked
                ).fetchone()
            )
            if row is None:
                return None
            cur = db.execute(
                "UPDATE work_queue SET state = 'running', claimed_at = ?,"
                " attempts = attempts + 1, lease_owner = ?, lease_until = ?"
                " WHERE incident_id = ? RETURNING attempts",
                (stamp, owner, _until(now, lease_seconds), row["incident_id"]),
            )
            attempts = int(cur.fetchone()["attempts"])
        return row["incident_id"], attempts

    def renew(
        self,
        incident_id: str,
        now: datetime,
        *,
        owner: str,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> bool:
        """Extend `owner`'s lease on a running incident; False once it is not theirs any
        more (it expired and another worker took the run over, or the run ended)."""
        with self._connect() as db:
            cur = db.execute(
                "UPDATE work_queue SET lease_until = ? WHERE incident_id = ?"
                " AND state = 'running' AND lease_owner = ?",
                (_until(now, lease_seconds), incident_id, owner),
            )
            return cur.rowcount == 1

    def set_queue_state(
        self, incident_id: str, state: QueueState, now: datetime, *, owner: str | None = None
    ) -> None:
        """Record where a run stopped; a concluded run whose alerts have all resolved in the
        meantime is closed at once. With `owner`, only while the run is still theirs: a
        worker whose lease was taken over records nothing."""
        # A run only becomes 'paused' from 'running': an approval may already have resumed
        # it to the end (through the API) before the worker got round to recording the pause.
        guard = " AND state = 'running'" if state is QueueState.PAUSED else ""
        args: tuple[object, ...] = (state.value, incident_id)
        if owner is not None:
            guard += " AND lease_owner = ?"
            args = (*args, owner)
        with self._transaction() as db:
            cur = db.execute(
                "UPDATE work_queue SET state = ?, lease_owner = NULL, lease_until = NULL"
                f" WHERE incident_id = ?{guard}",
                args,
            )
            if state is QueueState.DONE and cur.rowcount == 1:
                _close_if_all_resolved(db, incident_id, now.isoformat())

    def release(self, incident_id: str, *, owner: str | None = None) -> None:
        """Give a claimed run back to the queue without counting the attempt: it stopped
        because the store failed, not because of the incident."""
        guard, args = ("", (incident_id,)) if owner is None else (" AND lease_owner = ?", (
            incident_id, owner))  # fmt: skip
        with self._transaction() as db:
            db.execute(
                "UPDATE work_queue SET state = 'queued', lease_owner = NULL, lease_until = NULL,"
                " attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"
                f" WHERE incident_id = ? AND state = 'running'{guard}",
                args,
            )

    def claim_paused(
        self,
        incident_id: str,
        now: datetime,
        *,
        owner: str,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> bool:
        """Lease a paused run to `owner`, who resumes it with a person's decision under the
        same lease a claimed investigation has: no other replica resumes it meanwhile, and
        if `owner` dies another takes it over. A run the queue never had (started from the
        CLI) gets a row. False when the run is not paused: someone else is resuming it."""
        stamp = now.isoformat()
        until = _until(now, lease_seconds)
        with self._transaction() as db:
            cur = db.execute(
                "UPDATE work_queue SET state = 'running', claimed_at = ?, lease_owner = ?,"
                " lease_until = ? WHERE incident_id = ? AND state = 'paused'",
                (stamp, owner, until, incident_id),
            )
            if cur.rowcount == 1:
                return True
            cur = db.execute(
                "INSERT INTO work_queue (incident_id, state, enqueued_at, claimed_at, attempts,"
                " lease_owner, lease_until) VALUES (?, 'running', ?, ?, 0, ?, ?)"
                " ON CONFLICT (incident_id) DO NOTHING",
                (incident_id, stamp, stamp, owner, until),
            )
            return cur.rowcount == 1

    def queue_resume(self, incident_id: str, now: datetime) -> bool:
        """Hand a paused run whose approval was decided to the next worker that claims it
        (`serve --no-workers`, or a decision found at a worker's start). It keeps its place
        from when it was first queued, ahead of a storm's newer incidents: a person is
        waiting for it. A run the queue never had gets a row. False when it is not paused."""
        with self._transaction() as db:
            cur = db.execute(
                "UPDATE work_queue SET state = 'queued', lease_owner = NULL, lease_until = NULL"
                " WHERE incident_id = ? AND state = 'paused'",
                (incident_id,),
            )
            if cur.rowcount == 1:
                return True
            cur = db.execute(
                "INSERT INTO work_queue (incident_id, state, enqueued_at, attempts)"
                " VALUES (?, 'queued', ?, 0) ON CONFLICT (incident_id) DO NOTHING",
                (incident_id, now.isoformat()),
            )
            return cur.rowcount == 1

    def requeue_interrupted(self, gone: Callable[[str | None], bool] = lambda _: True) -> list[str]:
        """At a worker's start: runs whose worker is known to be gone go back to the queue
        at once (their checkpoints let them continue where they stopped). Which owners are
        gone is `gone`'s answer (store/leases.py: a process of this host that no longer
        runs); every other run is taken over when its lease expires."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT incident_id, lease_owner FROM work_queue WHERE state = 'running'"
                + self.db.skip_locked
            ).fetchall()
            back = [r["incident_id"] for r in rows if gone(r["lease_owner"])]
            if back:
                db.executemany(
                    "UPDATE work_queue SET state = 'queued', lease_owner = NULL,"
                    " lease_until = NULL WHERE incident_id = ? AND state = 'running'",
                    [(incident,) for incident in back],
                )
        return back

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
    def oldest_queued_at(self) -> datetime | None:
        """When the longest-waiting queued incident was queued (the queue-age gauge)."""
        rows = self._rows("SELECT min(enqueued_at) AS at FROM work_queue WHERE state = 'queued'")
        return datetime.fromisoformat(rows[0]["at"]) if rows and rows[0]["at"] else None

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


def group_lock_key(group_key: str) -> str:
    """The key a delivery serialises on for each of its groups (`Database.serialize`)."""
    return f"firstline.group.{group_key}"


def _until(now: datetime, lease_seconds: float) -> str:
    return (now + timedelta(seconds=lease_seconds)).isoformat()


class _Delivery:
    """One delivery's transaction, in few statements whatever its size: what is known of
    its alerts and of its groups' open incidents is read in one query each, and the writes
    of firing alerts are collected and sent together (one executemany per table, which
    psycopg pipelines). A resolved alert may close an incident, which depends on every
    write before it, so the collected writes go out before it is handled, one by one.
    The alerts that joined an incident are summarised in one timeline entry per incident."""

    def __init__(
        self,
        db: Connection,
        dialect: Dialect,
        stamp: str,
        window_start: datetime,
        alerts: Sequence[Alert],
        group_keys: Sequence[str],
    ) -> None:
        self.db = db
        self.dialect = dialect
        self.stamp = stamp
        self.known = _known_alerts(db, [a.fingerprint for a in alerts])
        self.groups = _open_incidents(db, set(group_keys), window_start)
        self.joined: dict[str, list[Alert]] = {}
        self.writes: dict[ManyRows | str, list[tuple[object, ...]]] = {
            statement: [] for statement in _WRITE_ORDER
        }

    def ingest(self, alert: Alert, group_key: str) -> tuple[Outcome, str | None]:
        stamp, body = self.stamp, alert.model_dump_json()
        known = self.known.get(alert.fingerprint)
        if alert.status is AlertStatus.RESOLVED:
            self.flush()
            row = self.db.execute(
                "SELECT status, incident_id FROM alerts WHERE fingerprint = ?",
                (alert.fingerprint,),
            ).fetchone()
            outcome, incident = _resolve(self.db, alert, row, group_key, stamp, body)
            self.known[alert.fingerprint] = (AlertStatus.RESOLVED.value, incident)
            return outcome, incident
        if known is not None and known[0] == AlertStatus.FIRING.value:
            # A repeat (Alertmanager re-sends firing alerts every group/repeat interval): an
            # update, never a second investigation, even when the incident already concluded.
            self.writes[_REPEAT].append((stamp, body, alert.fingerprint))
            return Outcome.UPDATED, known[1]
        incident = self.groups.get(group_key)
        outcome = Outcome.JOINED
        if incident is None:
            incident = self._new_incident(alert, group_key)
            self.groups[group_key] = incident
            outcome = Outcome.NEW_INCIDENT
        else:
            self.joined.setdefault(incident, []).append(alert)
        self.writes[_UPSERT].append(
            (alert.fingerprint, alert.source, alert.name, group_key, incident, stamp, stamp, body,
             workload_of(alert.labels))
        )  # fmt: skip
        self.known[alert.fingerprint] = (AlertStatus.FIRING.value, incident)
        return outcome, incident

    def _new_incident(self, alert: Alert, group_key: str) -> str:
        stamp = self.stamp
        incident = new_incident_id(datetime.fromisoformat(stamp))
        self.writes[_INCIDENT].append(
            (incident, alert.name, alert.fingerprint, IncidentStatus.OPEN.value, stamp, stamp)
        )
        self.writes[_GROUP].append((incident, group_key, stamp))
        self.writes[_QUEUE].append((incident, stamp))
        self.writes[_TIMELINE].append(
            (incident, "intake.received", stamp, "alert received",
             f"{alert.name} from {alert.source} {_label_text(alert)}")
        )  # fmt: skip
        return incident

    def record_joins(self) -> None:
        for incident, alerts in self.joined.items():
            shown = "; ".join(f"{a.name} {_label_text(a)}" for a in alerts[:3])
            more = f" and {len(alerts) - 3} more" if len(alerts) > 3 else ""
            event = (
                "related alert joined"
                if len(alerts) == 1
                else f"{len(alerts)} related alerts joined"
            )
            self.writes[_TIMELINE].append(
                (incident, f"intake.joined.{alerts[0].fingerprint}.{self.stamp}", self.stamp,
                 event, shown + more)
            )  # fmt: skip
        self.joined = {}
        self.flush()

    def flush(self) -> None:
        for statement in _WRITE_ORDER:  # incidents before the rows that name them
            rows = self.writes[statement]
            if not rows:
                continue
            if isinstance(statement, ManyRows):
                statement.write(self.db, self.dialect, rows)
            else:
                self.db.executemany(statement, rows)
            rows.clear()


_INCIDENT = ManyRows(
    "INSERT INTO incidents (id, alert_name, fingerprint, status, created_at, updated_at)",
    "(?, ?, ?, ?, ?, ?)",
)
_GROUP = ManyRows("INSERT INTO alert_groups (incident_id, group_key, opened_at)", "(?, ?, ?)")
_QUEUE = ManyRows("INSERT INTO work_queue (incident_id, state, enqueued_at)", "(?, 'queued', ?)")
# one row per fingerprint per flush: a firing alert seen again in the same delivery is a
# repeat, collected apart, so DO UPDATE never meets the same key twice in one statement
_UPSERT = ManyRows(
    "INSERT INTO alerts (fingerprint, source, name, status, group_key, incident_id,"
    " first_seen, last_seen, alert, workload)",
    "(?, ?, ?, 'firing', ?, ?, ?, ?, ?, ?)",
    " ON CONFLICT (fingerprint) DO UPDATE SET status = 'firing',"
    " incident_id = excluded.incident_id, group_key = excluded.group_key,"
    " last_seen = excluded.last_seen, receipts = alerts.receipts + 1, alert = excluded.alert",
)
_REPEAT = (
    "UPDATE alerts SET last_seen = ?, receipts = receipts + 1, alert = ? WHERE fingerprint = ?"
)
_TIMELINE = ManyRows(
    "INSERT INTO timeline (incident_id, key, at, stage, event, detail)",
    "(?, ?, ?, 'intake', ?, ?)",
    " ON CONFLICT DO NOTHING",
)
_WRITE_ORDER = (_INCIDENT, _GROUP, _QUEUE, _UPSERT, _REPEAT, _TIMELINE)


def _known_alerts(db: Connection, fingerprints: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    found: dict[str, tuple[str, str | None]] = {}
    for chunk in in_chunks(list(dict.fromkeys(fingerprints))):
        marks = placeholders(len(chunk))
        for row in db.execute(
            f"SELECT fingerprint, status, incident_id FROM alerts WHERE fingerprint IN ({marks})",
            chunk,
        ).fetchall():
            found[row["fingerprint"]] = (row["status"], row["incident_id"])
    return found


def _open_incidents(
    db: Connection, group_keys: set[str], window_start: datetime
) -> dict[str, str | None]:
    """Each group's newest incident opened within the window and not over yet."""
    found: dict[str, tuple[str, str]] = {}
    for chunk in in_chunks(sorted(group_keys)):
        marks = placeholders(len(chunk))
        rows = db.execute(
            "SELECT g.group_key, g.incident_id, g.opened_at FROM alert_groups g"
            " JOIN incidents i ON i.id = g.incident_id"
            f" WHERE g.group_key IN ({marks}) AND g.opened_at >= ?"
            f" AND i.status NOT IN ({_OVER_SQL})",
            (*chunk, window_start.isoformat()),
        ).fetchall()
        for row in rows:
            best = found.get(row["group_key"])
            if best is None or row["opened_at"] > best[0]:
                found[row["group_key"]] = (row["opened_at"], row["incident_id"])
    return {key: found[key][1] if key in found else None for key in group_keys}


def _resolve(
    db: Connection,
    alert: Alert,
    row: Row | None,
    group_key: str,
    stamp: str,
    body: str,
) -> tuple[Outcome, str | None]:
    if row is None:
        workload = workload_of(alert.labels)
        db.execute(
            "INSERT INTO alerts (fingerprint, source, name, status, group_key, incident_id,"
            " first_seen, last_seen, alert, workload)"
            " VALUES (?, ?, ?, 'resolved', ?, NULL, ?, ?, ?, ?)",
            (alert.fingerprint, alert.source, alert.name, group_key, stamp, stamp, body, workload),
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


def _close_if_all_resolved(db: Connection, incident: str, stamp: str) -> Outcome | None:
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
    db: Connection, incident: str, status: IncidentStatus, stamp: str, why: str
) -> None:
    db.execute(
        "UPDATE incidents SET status = ?, updated_at = ?, summary = ? WHERE id = ?",
        (status.value, stamp, why, incident),
    )
    _timeline(db, incident, f"intake.{status.value}", stamp, status.value.replace("_", "-"), why)


def _timeline(db: Connection, incident: str, key: str, stamp: str, event: str, detail: str) -> None:
    db.execute(
        "INSERT INTO timeline (incident_id, key, at, stage, event, detail)"
        " VALUES (?, ?, ?, 'intake', ?, ?) ON CONFLICT DO NOTHING",
        (incident, key, stamp, event, detail),
    )


def _label_text(alert: Alert) -> str:
    shown = {k: v for k, v in sorted(alert.labels.items()) if k != "alertname"}
    return "{" + ", ".join(f"{k}={v}" for k, v in list(shown.items())[:8]) + "}"
