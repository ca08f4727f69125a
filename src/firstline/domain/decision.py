"""The decision engine's verdict: what happens next, and which rule said so."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from firstline.domain.action import RemediationAction


class Outcome(StrEnum):
    AUTO_REMEDIATE = "auto_remediate"
    REQUEST_APPROVAL = "request_approval"
    ESCALATE = "escalate"
    RECOMMEND = "recommend"  # observe mode: tell people, touch nothing
    DISMISS = "dismiss"  # no real incident: record and close


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    rule: str = Field(description="Id of the rule that fired, e.g. 'medium_risk_needs_approval'.")
    reason: str
    actions: list[RemediationAction] = Field(default_factory=list)
    would_have: Outcome | None = Field(
        default=None, description="What the rules alone chose, when the mode overrode them."
    )
