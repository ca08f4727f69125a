"""What an escalation says, structured: the facts a person paged at 3 a.m. needs on one
screen. graph/report.py builds it from the run's state; each notifier formats it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class DigestHypothesis(BaseModel):
    model_config = ConfigDict(frozen=True)

    pattern: str
    cause: str
    confidence: float
    evidence: list[str] = Field(
        default_factory=list, description="Observations for and against, one sentence each."
    )
    evidence_refs: list[str] = Field(default_factory=list)


class ApprovalAsk(BaseModel):
    model_config = ConfigDict(frozen=True)

    round: int
    expires_at: datetime
    actions: list[str]
    dry_run: list[str] = Field(description="Exactly what will be done, from the executor.")


class IncidentDigest(BaseModel):
    model_config = ConfigDict(frozen=True)

    alert: str
    where: str
    status: str
    service: str = Field(default="", description="The workload the alert is about, if known.")
    fired_at: datetime | None = None
    summary: str = ""
    conclusion: str = ""
    decision: str = ""
    hypotheses: list[DigestHypothesis] = Field(default_factory=list)
    ruled_out: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list, description="Evidence summary lines.")
    tried: list[str] = Field(default_factory=list, description="Actions and verifications.")
    next_steps: list[str] = Field(default_factory=list)
    approval: ApprovalAsk | None = None


def incident_link(public_url: str | None, incident_id: str) -> str | None:
    """The incident's page in firstline's console (`notify.public_url`), when it is set."""
    return f"{public_url.rstrip('/')}/incidents/{incident_id}" if public_url else None
