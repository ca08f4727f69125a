"""The pattern engine as a Reasoner: every candidate pattern scores the evidence; hypotheses
are ranked by confidence, the rest are kept as ruled out with their reason."""

from __future__ import annotations

from firstline.domain.hypothesis import Analysis, RootCauseHypothesis, RuledOut
from firstline.patterns.base import PatternContext
from firstline.patterns.registry import PatternRegistry
from firstline.reasoning.base import ReasoningInput


class PatternReasoner:
    name = "patterns"

    def __init__(self, registry: PatternRegistry) -> None:
        self.registry = registry

    async def analyze(self, request: ReasoningInput) -> Analysis:
        ctx = PatternContext(
            alert=request.alert,
            severity=request.severity,
            evidence=request.evidence,
            failed_patterns=frozenset(a.pattern for a in request.failed_attempts),
        )
        candidates = [self.registry.get(pid) for pid in request.candidates]
        patterns = [p for p in candidates if p is not None] or list(self.registry)
        hypotheses: list[RootCauseHypothesis] = []
        ruled_out: list[RuledOut] = []
        for pattern in patterns:
            verdict = pattern.evaluate(ctx)
            if verdict.hypothesis is not None:
                hypotheses.append(verdict.hypothesis)
            elif verdict.ruled_out is not None:
                ruled_out.append(verdict.ruled_out)
        hypotheses.sort(key=lambda h: (-h.confidence, h.pattern))
        ruled_out.sort(key=lambda r: (-r.confidence, r.pattern))
        return Analysis(reasoner=self.name, hypotheses=hypotheses, ruled_out=ruled_out)
