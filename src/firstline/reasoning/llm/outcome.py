"""What a reasoner can report besides its analysis: timeline notes (fallbacks, reordering,
usage) and the tokens and cost it spent. Import-light: the graph's analyze node uses it."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from firstline.domain.hypothesis import Analysis
from firstline.reasoning.base import ReasoningInput
from firstline.reasoning.llm.usage import Usage


class ReasoningReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    analysis: Analysis
    notes: list[tuple[str, str]] = Field(default_factory=list)
    usage: Usage | None = None
    fallback: str | None = Field(default=None, description="Why the engine's result was used.")


@runtime_checkable
class ReportingReasoner(Protocol):
    """A Reasoner that can also explain how it got its analysis, per incident."""

    name: str

    async def analyze(self, request: ReasoningInput) -> Analysis: ...

    async def analyze_reported(self, request: ReasoningInput, incident: str) -> ReasoningReport: ...
