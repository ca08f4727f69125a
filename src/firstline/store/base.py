"""Ports: what the incident graph needs from durable storage, as protocols.

The graph is handed objects of these shapes (graph/context.py) and never opens a database
itself; the SQLite classes satisfy them structurally (AuditLog in store/audit.py,
ActionLog in store/action_log.py), and wiring/runtime.py passes those in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from firstline.domain.action import ActionStatus, RemediationAction
from firstline.store.action_log import ActionDetails, LedgerEntry
from firstline.store.audit import AuditKind, AuditRecord


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
