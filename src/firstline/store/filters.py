"""What an incident list may be narrowed by (the console's filters), as SQL both dialects
run, each answered from an index (migration 0006_console_filters): the status or severity
one with created_at, or the alerts' workload expression for a service."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from firstline.domain.alert import Severity
from firstline.store.database import Dialect

# The labels Alert.service reads a workload's name from, in its order (domain/alert.py).
SERVICE_LABELS = ("deployment", "statefulset", "daemonset", "service", "app", "job")


def _workload(dialect: Dialect) -> str:
    """The stored alert's first workload label as SQL: what migration 0006 indexed and
    0007 copies into the `workload` column, which `workload_of` fills from then on."""
    if dialect is Dialect.SQLITE:
        parts = [f"json_extract(alert, '$.labels.{label}')" for label in SERVICE_LABELS]
    else:
        parts = [f"(alert::jsonb #>> '{{labels,{label}}}')" for label in SERVICE_LABELS]
    return f"COALESCE({', '.join(parts)})"


WORKLOAD = {dialect: _workload(dialect) for dialect in Dialect}


def workload_of(labels: Mapping[str, str]) -> str | None:
    """The alert's first workload label, as `WORKLOAD` reads it from the stored body. Kept
    in its own column because the expression index parsed each stored alert's JSON once per
    label: six parses per alert on every insert, which cost PostgreSQL ingest more than half
    of its alerts insert."""
    return next((labels[k] for k in SERVICE_LABELS if k in labels), None)


class ListFilters(BaseModel):
    model_config = ConfigDict(frozen=True)

    severity: Severity | None = None
    service: str | None = None
    """An incident one of whose alerts names this workload first (its deployment,
    statefulset, daemonset, service, app or job label, in that order), the whole value."""
    since: datetime | None = None
    """Created at or after."""
    before: datetime | None = None
    """Created strictly before: the next page starts at the last row's created_at."""

    def where(self, dialect: Dialect) -> tuple[list[str], list[object]]:
        clauses: list[str] = []
        args: list[object] = []
        if self.severity is not None:
            clauses.append("severity = ?")
            args.append(self.severity.value)
        if self.since is not None:
            clauses.append("created_at >= ?")
            args.append(self.since.isoformat())
        if self.before is not None:
            clauses.append("created_at < ?")
            args.append(self.before.isoformat())
        if self.service:
            # the few incidents of a service first (alerts_workload), then their newest
            clauses.append("id IN (SELECT incident_id FROM alerts WHERE workload = ?)")
            args.append(self.service)
        return clauses, args


NO_FILTERS = ListFilters()
