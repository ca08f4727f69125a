"""Root-cause hypotheses, ranked, with the alternatives that were ruled out and why."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from firstline.domain.action import RemediationAction
from firstline.domain.signal import Signal

NO_INCIDENT = "no_real_incident"
UNKNOWN = "unknown"


class RootCauseHypothesis(BaseModel):
    model_config = ConfigDict(frozen=True)

    pattern: str = Field(description="Pattern id that produced it (or 'llm').")
    cause: str = Field(description="One sentence a person can act on.")
    confidence: float = Field(ge=0.0, le=1.0)
    evidence_refs: list[str] = Field(default_factory=list)
    affected_components: list[str] = Field(default_factory=list)
    suggested_actions: list[RemediationAction] = Field(default_factory=list)
    signals: list[str] = Field(
        default_factory=list, description="The observations that raised or lowered confidence."
    )
    verified: bool = Field(
        default=True,
        description="False for an idea no evidence supports (a model's, or a guess from the "
        "alert alone): shown, never decided on.",
    )
    basis: Literal["evidence", "alert", "model"] = Field(
        default="evidence",
        description="What the confidence rests on: observed evidence, or only what the alert "
        "says (a ranked guess), or a model's idea.",
    )
    confirm: list[str] = Field(
        default_factory=list, description="What a person would check to confirm or refute it."
    )


class RuledOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    pattern: str
    reason: str
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)


class ServiceRanking(BaseModel):
    """One service's place in the localization ranking: how far its own metrics moved from
    the incident's start against their own history, and which moved first."""

    model_config = ConfigDict(frozen=True)

    rank: int = Field(ge=1)
    service: str
    score: float = Field(description="Robust spreads the deciding metric moved; 0: none moved.")
    deciding: str = Field(default="", description="The deciding metric's move, in a sentence.")
    moved: list[str] = Field(default_factory=list, description="Every moved metric, first first.")


class Analysis(BaseModel):
    """A reasoner's output: hypotheses ranked best first, plus what was ruled out."""

    model_config = ConfigDict(frozen=True)

    reasoner: str
    hypotheses: list[RootCauseHypothesis] = Field(default_factory=list)
    ruled_out: list[RuledOut] = Field(default_factory=list)
    signals: list[Signal] = Field(
        default_factory=list, description="The facts read from the evidence, in scope first."
    )
    alert_meaning: str = Field(default="", description="What the alert catalog says it means.")
    localization: list[ServiceRanking] = Field(
        default_factory=list,
        description="When the incident spans services: which moved first and most.",
    )

    @property
    def top(self) -> RootCauseHypothesis | None:
        return self.hypotheses[0] if self.hypotheses else None

    @property
    def top_verified(self) -> RootCauseHypothesis | None:
        """The best hypothesis some evidence-based reasoning supports (what decisions use)."""
        return next((h for h in self.hypotheses if h.verified), None)
