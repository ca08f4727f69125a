"""The pattern engine as a Reasoner: every pattern scores every incident's evidence, with
what the alert says as a bounded prior; hypotheses are ranked by confidence, the rest are
kept as ruled out with their reason."""

from __future__ import annotations

from datetime import datetime

from firstline.domain.alert import Alert
from firstline.domain.evidence import EvidenceSet
from firstline.domain.hypothesis import Analysis, RootCauseHypothesis, RuledOut
from firstline.knowledge.catalog import AlertPrior, prior_for
from firstline.patterns.base import PatternContext
from firstline.patterns.registry import PatternRegistry
from firstline.reasoning.base import ReasoningInput
from firstline.reasoning.localization import localize
from firstline.signals.collect import collect_signals
from firstline.signals.recovery import recovered
from firstline.signals.scope import resolve_scope


def _evidence_time(evidence: EvidenceSet) -> datetime | None:
    """When the evidence was read: the end of its query windows."""
    ends = [i.provenance.end for i in evidence.items if i.provenance.end is not None]
    return max(ends) if ends else None


def build_context(request: ReasoningInput, registry: PatternRegistry) -> PatternContext:
    alert, evidence = request.alert, request.evidence
    prior = prior_for(alert)
    scope = resolve_scope(alert, evidence.pods(), prior.workload_labels, prior.reporter_labels)
    now = _evidence_time(evidence) or alert.starts_at
    signals = collect_signals(evidence, scope, now, alert=alert)
    return PatternContext(
        alert=alert,
        severity=request.severity,
        evidence=evidence,
        failed_patterns=frozenset(a.pattern for a in request.failed_attempts),
        prior=prior,
        signals=signals,
        alert_understood=bool(prior.suggests),
        recovered=recovered(evidence, signals, now)
        if _about_state(alert, prior, registry)
        else None,
        localization=tuple(localize(alert, evidence, scope.primary or alert.service)),
    )


def _about_state(alert: Alert, prior: AlertPrior, registry: PatternRegistry) -> bool:
    """Whether the alert reports the workload's state (crash loop, rollout, pending...): only
    then does a healthy present contradict it. Healthy pods say nothing about an error rate."""
    return any(
        p.symptom_is_current and (p.id in prior.suggests or p.applies_to(alert)) for p in registry
    )


MAX_SIGNALS = 16
"""Signals kept with the analysis (in scope first): enough for a report, small in state."""


class PatternReasoner:
    name = "patterns"

    def __init__(self, registry: PatternRegistry) -> None:
        self.registry = registry

    async def analyze(self, request: ReasoningInput) -> Analysis:
        ctx = build_context(request, self.registry)
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
        hypotheses.sort(key=lambda h: (-h.confidence, not h.verified, h.pattern))
        ruled_out.sort(key=lambda r: (-r.confidence, r.pattern))
        signals = sorted(ctx.signals, key=lambda s: (not s.in_scope, s.family))
        return Analysis(
            reasoner=self.name,
            hypotheses=hypotheses,
            ruled_out=ruled_out,
            signals=signals[:MAX_SIGNALS],
            alert_meaning=ctx.prior.meaning if ctx.prior else "",
            localization=list(ctx.localization),
        )
