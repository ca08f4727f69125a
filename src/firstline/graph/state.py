"""The typed state of one incident run. Lists that nodes append to use an add reducer."""

from __future__ import annotations

import operator
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from firstline.domain.action import ActionResult
from firstline.domain.alert import Alert, Severity
from firstline.domain.decision import Decision
from firstline.domain.evidence import EvidenceSet
from firstline.domain.hypothesis import Analysis
from firstline.domain.incident import ApprovalAnswer, IncidentStatus, TimelineEntry
from firstline.reasoning.base import FailedAttempt
from firstline.reasoning.llm.usage import Usage


class Verification(BaseModel):
    model_config = ConfigDict(frozen=True)

    attempt: int
    resolved: bool
    reason: str
    checks: list[str] = Field(default_factory=list)


class IncidentState(BaseModel):
    incident_id: str
    alert: Alert
    status: IncidentStatus = IncidentStatus.OPEN
    severity: Severity | None = None
    severity_reason: str = ""
    candidates: list[str] = Field(default_factory=list)
    evidence: EvidenceSet | None = None
    analysis: Analysis | None = None
    decision: Decision | None = None
    approval: ApprovalAnswer | None = None
    approval_round: int = 0
    attempt: int = Field(default=0, description="Remediation rounds carried out so far.")
    failed_attempts: list[FailedAttempt] = Field(default_factory=list)
    analyses: Annotated[list[Analysis], operator.add] = Field(
        default_factory=list, description="Every round's analysis, first round first."
    )
    decisions: Annotated[list[Decision], operator.add] = Field(default_factory=list)
    action_results: Annotated[list[ActionResult], operator.add] = Field(default_factory=list)
    verifications: Annotated[list[Verification], operator.add] = Field(default_factory=list)
    timeline: Annotated[list[TimelineEntry], operator.add] = Field(default_factory=list)
    conclusion: str = ""
    llm_usage: Usage | None = Field(
        default=None, description="Tokens and cost model calls spent on this incident."
    )


def checkpoint_types() -> list[type]:
    """Every model and enum class reachable from IncidentState, for the serializer allowlist."""
    import enum
    import typing

    seen: set[type] = set()

    def visit(tp: object) -> None:
        for arg in typing.get_args(tp):
            visit(arg)
        if isinstance(tp, type) and tp not in seen:
            if issubclass(tp, BaseModel):
                seen.add(tp)
                for field in tp.model_fields.values():
                    visit(field.annotation)
            elif issubclass(tp, enum.Enum):
                seen.add(tp)

    visit(IncidentState)
    return sorted(seen, key=lambda t: (t.__module__, t.__name__))
