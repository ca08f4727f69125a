"""The Reasoner port."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from firstline.domain.alert import Alert, Severity
from firstline.domain.evidence import EvidenceSet
from firstline.domain.hypothesis import Analysis


class FailedAttempt(BaseModel):
    """A fix that was tried and did not resolve the incident; reasoners must not repeat it."""

    model_config = ConfigDict(frozen=True)

    pattern: str
    actions: list[str] = Field(default_factory=list)


class ReasoningInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    alert: Alert
    severity: Severity
    candidates: list[str] = Field(default_factory=list, description="Pattern ids from triage.")
    evidence: EvidenceSet
    failed_attempts: list[FailedAttempt] = Field(default_factory=list)


@runtime_checkable
class Reasoner(Protocol):
    name: str

    async def analyze(self, request: ReasoningInput) -> Analysis: ...
