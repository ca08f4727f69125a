"""What a pattern is, and the scorecard that turns observations into a confidence.

A pattern declares which alerts it applies to, which metric queries it needs, and how it
scores the evidence. Scoring is additive in log-odds: each observation adds or removes
weight, and the sum goes through a logistic function. That keeps confidences comparable
across patterns, and the weights were set so the bundled scenarios stay calibrated (the
eval command reports the Brier score and a reliability table to keep this honest).
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from firstline.domain.action import RemediationAction
from firstline.domain.alert import Alert, Severity
from firstline.domain.evidence import EvidenceSet, PodState
from firstline.domain.hypothesis import RootCauseHypothesis, RuledOut
from firstline.domain.query import MetricQuery


@dataclass
class Scorecard:
    """Accumulates log-odds evidence for one hypothesis."""

    prior: float = -2.5
    total: float = field(init=False)
    signals: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.total = self.prior

    def add(self, observed: bool, weight: float, note: str, ref: str | None = None) -> bool:
        """Add `weight` when `observed`; returns `observed` so callers can chain on it."""
        if observed:
            self.total += weight
            sign = "+" if weight >= 0 else "-"
            self.signals.append(f"{sign} {note}")
            if ref and ref not in self.refs:
                self.refs.append(ref)
        return observed

    @property
    def confidence(self) -> float:
        return round(1.0 / (1.0 + math.exp(-self.total)), 3)


@dataclass(frozen=True)
class PatternContext:
    alert: Alert
    severity: Severity
    evidence: EvidenceSet
    failed_patterns: frozenset[str] = frozenset()

    @property
    def namespace(self) -> str | None:
        return self.alert.namespace

    @property
    def component(self) -> str | None:
        """The workload the alert is about (service/deployment/app/job label)."""
        return self.alert.service

    def workload(self) -> str | None:
        """The alerted workload; for pod-level alerts (namespace+pod labels only), the
        alerted pod's owner as the cluster reports it."""
        if self.component:
            return self.component
        name = self.alert.labels.get("pod")
        pod = next((p for p in self.evidence.pods() if p.name == name), None)
        return pod.owner if pod is not None else None

    def owns(self, pod: PodState, component: str | None) -> bool:
        """Whether a pod belongs to `component` (or is the alerted pod itself)."""
        if component is None:
            return True
        return (
            pod.owner == component
            or pod.name.startswith(f"{component}-")
            or pod.name == self.alert.labels.get("pod")
        )


@dataclass(frozen=True)
class PatternVerdict:
    """Either a hypothesis or a reason the pattern does not fit."""

    hypothesis: RootCauseHypothesis | None = None
    ruled_out: RuledOut | None = None


class Pattern(ABC):
    """Subclass, set the class attributes, implement `evaluate`, and expose `PATTERN`."""

    id: ClassVar[str]
    title: ClassVar[str]
    default_severity: ClassVar[Severity] = Severity.HIGH
    alert_names: ClassVar[tuple[str, ...]] = ()
    """Regular expressions matched (case-insensitive, full match) against the alert name."""
    metrics: ClassVar[tuple[MetricQuery, ...]] = ()
    universal: ClassVar[bool] = False
    """Universal patterns (e.g. "no real incident") are evaluated for every alert."""
    min_confidence: ClassVar[float] = 0.2
    """Below this a result is reported as ruled out instead of as a hypothesis."""

    def applies_to(self, alert: Alert) -> bool:
        return any(re.fullmatch(p, alert.name, re.IGNORECASE) for p in self.alert_names)

    @abstractmethod
    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        """Return the scorecard, the cause sentence and the affected components."""

    @abstractmethod
    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        """The actions this pattern recommends when its hypothesis holds."""

    def evaluate(self, ctx: PatternContext) -> PatternVerdict:
        card, cause, components = self.score(ctx)
        confidence = card.confidence
        if self.id in ctx.failed_patterns:
            return PatternVerdict(
                ruled_out=RuledOut(
                    pattern=self.id,
                    reason="its remediation was already tried and did not resolve the alert",
                    confidence=confidence,
                )
            )
        if confidence < self.min_confidence:
            missing = "; ".join(card.signals) or "none of its signals were present"
            return PatternVerdict(
                ruled_out=RuledOut(
                    pattern=self.id, reason=f"weak evidence ({missing})", confidence=confidence
                )
            )
        return PatternVerdict(
            hypothesis=RootCauseHypothesis(
                pattern=self.id,
                cause=cause,
                confidence=confidence,
                evidence_refs=card.refs,
                affected_components=components,
                suggested_actions=self.remediation(ctx, components),
                signals=card.signals,
            )
        )
