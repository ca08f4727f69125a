"""Ports: what firstline needs from durable storage, as protocols.

The graph is handed objects of these shapes (graph/context.py) and never opens a database
itself; the store classes satisfy them structurally (IncidentStore in store/incidents.py,
IntakeStore in store/intake.py, AuditLog in store/audit.py, ActionLog in
store/action_log.py), on SQLite or PostgreSQL alike (store/database.py), and
wiring/runtime.py passes those in.

Every implementation raises, for a failure of the database itself, only StoreError kinds
(store/errors.py: StoreBusy when it stays locked or saturated, StoreUnavailable when it
cannot be read or written), never its driver's errors (sqlite3, psycopg), so callers
catch StoreError (or TemporaryError) and nothing else. Each method is one transaction:
nothing is half written when it raises. An incident id that names nothing raises
UnknownIncident where the method says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from firstline.domain.action import ActionStatus, RemediationAction
from firstline.domain.alert import Alert
from firstline.domain.incident import IncidentStatus, IncidentSummary, TimelineEntry
from firstline.store.action_log import ActionDetails, LedgerEntry
from firstline.store.audit import AuditKind, AuditRecord
from firstline.store.filters import ListFilters
from firstline.store.incidents import ApprovalRecord
from firstline.store.intake import IngestResult, QueueState


class AuditTrail(Protocol):
    """The append-only, hash-chained record of decisions and actions."""

    def append(
        self,
        incident_id: str,
        kind: AuditKind,
        details: dict[str, Any],
        *,
        actor: str = ...,
        at: datetime | None = ...,
    ) -> AuditRecord: ...

    def append_all(
        self,
        incident_id: str,
        entries: Sequence[tuple[AuditKind, dict[str, Any]]],
        *,
        actor: str = ...,
        at: datetime | None = ...,
    ) -> list[AuditRecord]:
        """All of them or none (one transaction)."""
        ...

    def records(
        self, incident_id: str | None = ..., kind: AuditKind | None = ...
    ) -> list[AuditRecord]: ...


class ActionLedger(Protocol):
    """One entry per idempotency key, written before the action runs, and the details
    recorded beside it (dry run, undo, report, reconcile verdict, the one re-run)."""

    def entry(self, key: str) -> LedgerEntry | None: ...

    def entries(self, incident_id: str) -> list[LedgerEntry]: ...

    def started_since(self, since: datetime) -> list[LedgerEntry]:
        """Every incident's entries started at or after `since` (rate limits)."""
        ...

    def begin_action(self, key: str, incident_id: str, action: RemediationAction) -> bool:
        """Record the action as started. False if any process recorded it already."""
        ...

    def finish_action(self, key: str, status: ActionStatus, detail: str) -> None: ...

    def claim_rerun(self, key: str) -> bool:
        """The single re-run allowed after a crash; atomic across processes."""
        ...

    def record_dry_run(self, key: str, diff: str) -> None: ...

    def record_outcome(
        self, key: str, undo: RemediationAction | None, report: dict[str, Any]
    ) -> None: ...

    def record_reconcile(self, key: str, verdict: str) -> None: ...

    def details(self, key: str) -> ActionDetails | None: ...


class IncidentRepository(Protocol):
    """Incidents, their timelines and their approval requests and decisions."""

    # -- incidents -------------------------------------------------------------------------
    def create(
        self, incident_id: str, alert_name: str, fingerprint: str, scenario_path: Path | None
    ) -> None: ...

    def update(
        self,
        incident_id: str,
        *,
        status: IncidentStatus | None = None,
        severity: str | None = None,
        summary: str | None = None,
    ) -> None: ...

    def save_snapshot(
        self, incident_id: str, snapshot: dict[str, Any], status: IncidentStatus | None = None
    ) -> None:
        """The run's state, and its final status if given, in one write."""
        ...

    def summary(self, incident_id: str) -> IncidentSummary:
        """Raises UnknownIncident."""
        ...

    def snapshot(self, incident_id: str) -> dict[str, Any]:
        """The last saved run state ({} before the first); raises UnknownIncident."""
        ...

    def scenario_path(self, incident_id: str) -> Path | None:
        """Raises UnknownIncident."""
        ...

    def list_incidents(
        self, limit: int = 50, status: IncidentStatus | None = None, filters: ListFilters = ...
    ) -> list[IncidentSummary]:
        """Newest first, narrowed by `filters` (store/filters.py)."""
        ...

    def ids_with_prefix(self, prefix: str, limit: int = 2) -> tuple[list[str], int]:
        """The first `limit` ids that begin with `prefix` (an id before the longer ones it
        begins), and how many do; from an index."""
        ...

    def resolve_id(self, given: str) -> str:
        """The id `given` is, or the one id it begins; raises UnknownIncident, or
        AmbiguousIncidentId when several ids begin with it."""
        ...

    # -- timeline --------------------------------------------------------------------------
    def append_timeline(self, incident_id: str, entries: list[TimelineEntry]) -> None:
        """Idempotent: an entry whose key is stored already is ignored."""
        ...

    def timeline(self, incident_id: str) -> list[TimelineEntry]:
        """Oldest first; raises UnknownIncident."""
        ...

    # -- approvals -------------------------------------------------------------------------
    def open_approval(
        self, incident_id: str, round_: int, requested_at: datetime, expires_at: datetime
    ) -> tuple[ApprovalRecord, bool]:
        """The request of this round, created once; the flag says whether this call did."""
        ...

    def approval(self, incident_id: str, round_: int | None = None) -> ApprovalRecord | None:
        """This round's request, or the latest one."""
        ...

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
        """Record the first decision of this round, atomically across processes; False
        if there is one already."""
        ...

    def decided_but_waiting(self) -> list[str]:
        """Incidents still waiting for an approval that was decided."""
        ...

    def pending_approvals(self) -> list[ApprovalRecord]:
        """Undecided requests, soonest expiry first."""
        ...


class IntakeRepository(Protocol):
    """Received alerts, their grouping into incidents and the durable investigation queue."""

    def ingest(
        self,
        alerts: Sequence[Alert],
        group_keys: Sequence[str],
        *,
        now: datetime,
        group_window: timedelta,
    ) -> IngestResult:
        """A delivery's alerts in one transaction, all or nothing."""
        ...

    def claim_next(
        self, now: datetime, *, owner: str = ..., lease_seconds: float = ...
    ) -> tuple[str, int] | None:
        """The next run, leased to `owner`, with its attempt number: one whose lease
        expired, else the oldest queued; no replica claims what another is claiming."""
        ...

    def renew(
        self, incident_id: str, now: datetime, *, owner: str, lease_seconds: float = ...
    ) -> bool:
        """Extend the lease; False once the run is not `owner`'s any more."""
        ...

    def set_queue_state(
        self, incident_id: str, state: QueueState, now: datetime, *, owner: str | None = ...
    ) -> None: ...

    def release(self, incident_id: str, *, owner: str | None = ...) -> None:
        """A claimed run back to the queue without counting the attempt."""
        ...

    def claim_paused(
        self, incident_id: str, now: datetime, *, owner: str, lease_seconds: float = ...
    ) -> bool:
        """Lease a paused run to `owner`, to resume it with a person's decision; False when
        it is not paused (another worker is resuming it)."""
        ...

    def queue_resume(self, incident_id: str, now: datetime) -> bool:
        """Hand a paused run whose approval was decided to the next worker that claims;
        False when it is not paused (already queued or being resumed)."""
        ...

    def requeue_interrupted(self, gone: Callable[[str | None], bool] = ...) -> list[str]:
        """At a worker's start: runs whose owner is known to be gone go back to the queue."""
        ...

    def oldest_queued_at(self) -> datetime | None: ...

    def incidents_in(self, state: QueueState) -> list[str]: ...

    def queue_depth(self) -> dict[str, int]: ...

    def queue_entry(self, incident_id: str) -> tuple[str, int] | None:
        """(state, attempts), or None if the queue never had the incident."""
        ...

    def alerts_of(self, incident_id: str) -> list[Alert]: ...

    def primary_alert(self, incident_id: str) -> Alert | None: ...

    def ping(self, now: datetime) -> None:
        """Readiness: the store can be read and written now (StoreError otherwise)."""
        ...

    def close(self) -> None: ...
