"""What a pattern is, and the scorecard that turns observations into a confidence.

A pattern declares which alerts typically point at it, which metric queries it needs, and how
it scores the evidence. Scoring is additive in log-odds: each observation adds or removes
weight, and the sum goes through a logistic function. That keeps confidences comparable
across patterns, and the weights were set so the bundled scenarios stay calibrated (the
eval command reports the Brier score and a reliability table to keep this honest).

Every pattern sees every incident. What the alert says (its name, the alert catalog's
knowledge of it, its expression) is a *prior* added to the evidence, never a gate, and it is
bounded: the prior alone can lift a hypothesis to at most `PRIOR_CEILING`, below the policy's
default confidence threshold, so a better guess never turns into an action without evidence.
A pattern none of whose evidence could be read is judged on the alert alone and is marked as
a guess (`basis="alert"`, not verified), which the decision engine never acts on.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from firstline.domain.action import RemediationAction
from firstline.domain.alert import Alert, Severity
from firstline.domain.evidence import EvidenceSet, EvidenceStatus, PodState
from firstline.domain.hypothesis import RootCauseHypothesis, RuledOut, ServiceRanking
from firstline.domain.query import MetricQuery
from firstline.knowledge.catalog import AlertKind, AlertPrior, Strength
from firstline.signals.collect import SignalSet, collect_signals
from firstline.signals.scope import WorkloadScope, resolve_scope

PRIOR_CEILING = 0.55
"""The highest confidence the alert's prior can lift a hypothesis to (the default policy
threshold is 0.6): beyond it, only evidence counts."""
STRENGTH_WEIGHT = {Strength.STRONG: 1.0, Strength.LIKELY: 0.6, Strength.POSSIBLE: 0.3}
"""Log-odds the alert adds on top of evidence: a nudge, so evidence decides the ranking."""
GUESS = {Strength.STRONG: 0.45, Strength.LIKELY: 0.3, Strength.POSSIBLE: 0.15}
"""With none of a pattern's evidence available, the alert alone: how often an alert that
suggests a cause this strongly is caused by it, as a person would guess (below any sane
confidence threshold, and never decided on)."""
ELSEWHERE_WEIGHT = -0.5
"""The alert is understood and points at other causes: evidence must outweigh that."""
ALWAYS = "alert"
"""A `reads` entry for patterns whose evidence includes the alert itself."""


def logistic(total: float) -> float:
    return round(1.0 / (1.0 + math.exp(-total)), 3)


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
        return logistic(self.total)

    @property
    def supported(self) -> bool:
        """Whether any observation spoke for the hypothesis."""
        return any(s.startswith("+") for s in self.signals)


@dataclass(frozen=True)
class PatternContext:
    alert: Alert
    severity: Severity
    evidence: EvidenceSet
    failed_patterns: frozenset[str] = frozenset()
    prior: AlertPrior | None = None
    signals: SignalSet = field(default_factory=SignalSet)
    alert_understood: bool = False
    """Whether the alert (by name or catalog) points at some pattern; then patterns it does
    not point at start lower."""
    recovered: str | None = None
    """Why the alerting workload is healthy now, when it is (see signals.recovery)."""
    localization: tuple[ServiceRanking, ...] = ()
    """When the evidence holds several services' metrics: which moved first and most."""
    memo: dict[str, object] = field(default_factory=dict, compare=False)
    """Per-incident results that several patterns compute alike (e.g. lower-cased texts)."""

    def __post_init__(self) -> None:
        # A context built by hand (a test, a user's tool) gets the scope and signals the
        # reasoner would give it, from the alert's labels alone.
        if not self.signals.resolved:
            scope = resolve_scope(self.alert, self.evidence.pods())
            signals = collect_signals(self.evidence, scope, None, alert=self.alert)
            object.__setattr__(self, "signals", signals)

    @property
    def scope(self) -> WorkloadScope:
        return self.signals.scope

    @property
    def namespace(self) -> str | None:
        return self.alert.namespace

    @property
    def component(self) -> str | None:
        """The workload the alert is about: the resolved scope's workload, else the alert's
        service/deployment/app/job label."""
        return self.scope.primary or self.alert.service

    @property
    def heartbeat(self) -> bool:
        """The alert is a heartbeat or an inhibitor: it fires by design."""
        return self.prior is not None and self.prior.kind in (
            AlertKind.HEARTBEAT,
            AlertKind.INHIBITOR,
        )

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
        if component == self.component and not self.scope.empty:
            return self.scope.owns(pod)
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
    reads: ClassVar[tuple[str, ...]] = ("pods", "events", "logs")
    """Evidence kinds the pattern judges by ('pods', 'events', 'logs', 'deployments',
    'nodes', 'changes', 'related_alerts', 'databases', 'alert'), besides its metrics. When
    none of them holds data, the pattern is judged on the alert alone."""
    confirm_with: ClassVar[tuple[str, ...]] = ()
    """What a person would check to confirm or refute this cause."""
    symptom_is_current: ClassVar[bool] = False
    """The cause shows in the workload's present state (pods failing, not ready): when the
    workload is healthy now, what the evidence shows is history."""

    def applies_to(self, alert: Alert) -> bool:
        """Whether the alert's name is one this pattern typically explains (a prior)."""
        return any(re.fullmatch(p, alert.name, re.IGNORECASE) for p in self.alert_names)

    def suggestion(self, ctx: PatternContext) -> Strength | None:
        """How strongly the alert points at this pattern: the catalog's word, else a match
        of the pattern's own alert names counts as possible."""
        suggested = ctx.prior.suggests.get(self.id) if ctx.prior else None
        if suggested is None and not self.universal and self.applies_to(ctx.alert):
            return Strength.POSSIBLE
        return suggested

    def prior_weight(self, ctx: PatternContext) -> tuple[float, str]:
        """Log-odds the alert itself adds, with the note a report shows."""
        if (suggested := ctx.prior.suggests.get(self.id) if ctx.prior else None) is not None:
            entry = ctx.prior.entry if ctx.prior else None
            why = f" ({entry})" if entry and entry != ctx.alert.name else ""
            return (
                STRENGTH_WEIGHT[suggested],
                f"alert {ctx.alert.name}{why} suggests {self.id} ({suggested.value})",
            )
        if self.universal or self.applies_to(ctx.alert) or not ctx.alert_understood:
            return 0.0, ""
        return ELSEWHERE_WEIGHT, f"alert {ctx.alert.name} points at other causes"

    def guess(self, ctx: PatternContext) -> tuple[float, str]:
        """The confidence the alert alone gives, for a pattern with no evidence to read."""
        strength = self.suggestion(ctx)
        if strength is None:
            base = logistic(-2.5 + (ELSEWHERE_WEIGHT if ctx.alert_understood else 0.0))
            return base, ""
        return GUESS[strength], f"alert {ctx.alert.name} suggests {self.id} ({strength.value})"

    def has_evidence(self, ctx: PatternContext) -> bool:
        """Whether any evidence this pattern judges by holds data for this incident."""
        ev = ctx.evidence
        if any(ev.metric(q.name) is not None for q in self.metrics):
            return True
        return any(_holds(kind, ctx) for kind in self.reads)

    @abstractmethod
    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        """Return the scorecard, the cause sentence and the affected components."""

    @abstractmethod
    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        """The actions this pattern recommends when its hypothesis holds."""

    def evaluate(self, ctx: PatternContext) -> PatternVerdict:
        card, cause, components = self.score(ctx)
        if self.symptom_is_current and ctx.recovered:
            card.add(True, -2.5, f"it is over: {ctx.recovered}", "pods")
        if self.has_evidence(ctx):
            bonus, note = self.prior_weight(ctx)
            confidence = logistic(card.total + bonus)
            if bonus > 0 and confidence > PRIOR_CEILING:
                confidence = max(card.confidence, PRIOR_CEILING)
            supported = card.supported
        else:
            card = Scorecard(prior=card.prior)
            card.signals.append("? none of the evidence it judges by was available")
            confidence, note = self.guess(ctx)
            bonus, supported = 1.0, False
        if note:
            card.signals.append(f"{'+' if bonus > 0 else '-'} {note}")
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
                basis="evidence" if supported else "alert",
                # a guess from the alert alone is shown to people, never decided on
                verified=supported,
                confirm=list(self.confirm_with),
            )
        )


def _holds(kind: str, ctx: PatternContext) -> bool:
    ev = ctx.evidence
    if kind == ALWAYS:
        return True
    if kind == "pods":
        return bool(ctx.scope.select(ev.pods()))
    if kind == "events":
        events = ev.events()
        return bool(events and events.events)
    if kind == "logs":
        logs = ev.logs()
        return bool(logs and (logs.entries or logs.templates))
    if kind == "databases":
        return bool(ev.databases())
    lookups = {
        "deployments": ev.deployments,
        "nodes": ev.nodes,
        "changes": ev.changes,
    }
    if kind in lookups:
        return bool(lookups[kind]())
    if kind == "related_alerts":
        related = ev.related()
        return related is not None and related.status is EvidenceStatus.OK
    return False
