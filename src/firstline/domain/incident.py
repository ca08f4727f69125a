"""Incident records and their timeline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from ulid import ULID


class IncidentStatus(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    AWAITING_APPROVAL = "awaiting_approval"
    REMEDIATING = "remediating"
    VERIFYING = "verifying"
    RESOLVED = "resolved"
    ESCALATED = "escalated"
    RECOMMENDED = "recommended"
    DISMISSED = "dismissed"
    SELF_RESOLVED = "self_resolved"  # every alert resolved before it was investigated
    CLOSED = "closed"  # escalated or recommended, then every alert resolved

    @property
    def final(self) -> bool:
        return self in {
            IncidentStatus.RESOLVED,
            IncidentStatus.ESCALATED,
            IncidentStatus.RECOMMENDED,
            IncidentStatus.DISMISSED,
            IncidentStatus.SELF_RESOLVED,
            IncidentStatus.CLOSED,
        }


def new_incident_id(now: datetime) -> str:
    """`inc-` and a ULID in lower case: 48 bits of milliseconds, then 80 random bits
    (monotonic within a millisecond in one process), so ids sort by creation time and do
    not collide however many incidents open at once."""
    return f"inc-{str(ULID.from_datetime(now)).lower()}"


class TimelineEntry(BaseModel):
    """What happened, when, and why. `key` makes re-appends after a resume harmless."""

    model_config = ConfigDict(frozen=True)

    key: str
    at: datetime
    stage: str
    event: str
    detail: str = ""


class ApprovalRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident_id: str
    requested_at: datetime
    expires_at: datetime
    summary: str
    actions: list[str]
    dry_run: list[str] = Field(default_factory=list)


class ApprovalAnswer(BaseModel):
    """What a person (or the expiry sweeper) answered. Sent as the interrupt's resume value."""

    model_config = ConfigDict(frozen=True)

    approved: bool
    by: str
    at: datetime
    comment: str = ""
    channel: str = "cli"
    expired: bool = False


class IncidentSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    alert_name: str
    severity: str | None
    status: IncidentStatus
    created_at: datetime
    updated_at: datetime
    summary: str = ""
