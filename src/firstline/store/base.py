"""What the rest of firstline needs from a store: the seam another database (PostgreSQL)
plugs into. The SQLite classes (store/incidents.py, store/intake.py) satisfy these
protocols structurally.

Every implementation raises, for a failure of the database itself, only StoreError kinds
(store/errors.py: StoreBusy when it stays locked or saturated, StoreUnavailable when it
cannot be read or written), never its driver's errors (sqlite3, psycopg), so callers
catch StoreError (or TemporaryError) and nothing else. Each method is one transaction:
nothing is half written when it raises. An incident id that names nothing raises
UnknownIncident where the method says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from firstline.domain.alert import Alert
from firstline.domain.incident import IncidentStatus, IncidentSummary, TimelineEntry
from firstline.store.incidents import ApprovalRecord
from firstline.store.intake import IngestResult, QueueState


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
        self, limit: int = 50, status: IncidentStatus | None = None
    ) -> list[IncidentSummary]:
        """Newest first."""
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

    def claim_next(self, now: datetime) -> tuple[str, int] | None:
        """The oldest queued incident, marked running, with its attempt number; no
        incident is claimed twice."""
        ...

    def set_queue_state(self, incident_id: str, state: QueueState, now: datetime) -> None: ...

    def release(self, incident_id: str) -> None:
        """A claimed run back to the queue without counting the attempt."""
        ...

    def requeue_interrupted(self) -> list[str]:
        """After a restart: runs left running go back to the queue."""
        ...

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
