"""Builders for pattern unit tests: evidence built by hand, or a bundle replayed and gathered
exactly as the graph does it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from firstline.detection.detectors import get_detector
from firstline.domain.alert import Alert, Severity, fingerprint_labels
from firstline.domain.evidence import (
    Deployment,
    DeploymentEvidence,
    EventEvidence,
    Evidence,
    EvidenceSet,
    KubeEvent,
    LogEntry,
    LogEvidence,
    MetricEvidence,
    MetricPoint,
    NodeEvidence,
    NodeState,
    PodEvidence,
    PodState,
    Provenance,
    RelatedAlertsEvidence,
)
from firstline.domain.hypothesis import RootCauseHypothesis, RuledOut
from firstline.graph.gathering import annotate
from firstline.patterns.base import Pattern, PatternContext, PatternVerdict
from firstline.patterns.registry import PatternRegistry
from tests.unit.patterns.replay import replay_evidence

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
_PROV = Provenance(source="test", query="test")


def at(minutes: float) -> datetime:
    """A time relative to NOW, e.g. at(-15) is a quarter of an hour ago."""
    return NOW + timedelta(minutes=minutes)


def alert(
    name: str,
    *,
    namespace: str = "shop",
    service: str | None = "cart",
    started: float = -5,
    annotations: dict[str, str] | None = None,
    **labels: str,
) -> Alert:
    merged = {"alertname": name, "namespace": namespace, **labels}
    if service is not None:
        merged["service"] = service
    return Alert(
        source="test",
        name=name,
        labels=merged,
        annotations=annotations or {},
        starts_at=at(started),
        fingerprint=fingerprint_labels(merged),
    )


def series(
    name: str,
    base: float,
    *,
    to: float | None = None,
    change_at: float = -10,
    unit: str = "",
    labels: dict[str, str] | None = None,
) -> MetricEvidence:
    """60 one-minute points at `base`, stepping to `to` from `change_at` minutes, annotated by
    the same detector the graph uses."""
    points = [
        MetricPoint(
            ts=at(m), value=to if to is not None and m >= change_at else base * (1 + (m % 3) / 100)
        )
        for m in range(-60, 1)
    ]
    metric = MetricEvidence(
        id=f"metric:{name}",
        name=name,
        unit=unit,
        labels=labels or {},
        provenance=_PROV,
        points=points,
    )
    return annotate(metric, get_detector("robust_shift"))


def logs(*lines: tuple[float, str, dict[str, str]], repeat: int = 1) -> LogEvidence:
    entries = [
        LogEntry(ts=at(minute) + timedelta(seconds=10 * i), line=line, labels=labels)
        for minute, line, labels in lines
        for i in range(repeat)
    ]
    return LogEvidence(id="logs", provenance=_PROV, entries=sorted(entries, key=lambda e: e.ts))


def pods(*items: PodState) -> PodEvidence:
    return PodEvidence(id="pods", provenance=_PROV, pods=list(items))


def deployments(*items: Deployment) -> DeploymentEvidence:
    return DeploymentEvidence(id="deployments", provenance=_PROV, deployments=list(items))


def events(*items: KubeEvent) -> EventEvidence:
    return EventEvidence(id="events", provenance=_PROV, events=list(items))


def event(reason: str, message: str, obj: str, kind: str = "Warning") -> KubeEvent:
    return KubeEvent(type=kind, reason=reason, message=message, object=obj, last_seen=at(-1))


def nodes(*items: NodeState) -> NodeEvidence:
    return NodeEvidence(id="nodes", provenance=_PROV, nodes=list(items))


def related(*alerts: Alert) -> RelatedAlertsEvidence:
    return RelatedAlertsEvidence(id="related_alerts", provenance=_PROV, alerts=list(alerts))


def evidence(*items: Evidence) -> EvidenceSet:
    return EvidenceSet(items=list(items))


def evaluate(
    pattern: Pattern, alert_: Alert, ev: EvidenceSet, severity: Severity = Severity.HIGH
) -> PatternVerdict:
    return pattern.evaluate(PatternContext(alert=alert_, severity=severity, evidence=ev))


def hypothesis(verdict: PatternVerdict) -> RootCauseHypothesis:
    assert verdict.hypothesis is not None, f"ruled out: {verdict.ruled_out}"
    return verdict.hypothesis


def ruled_out_or_weak(verdict: PatternVerdict, below: float = 0.6) -> bool:
    """True when the pattern stays out of the way: ruled out, or under the decision threshold."""
    if verdict.ruled_out is not None:
        return True
    return verdict.hypothesis is not None and verdict.hypothesis.confidence < below


def ruled_out(verdict: PatternVerdict) -> RuledOut:
    assert verdict.ruled_out is not None, f"not ruled out: {verdict.hypothesis}"
    return verdict.ruled_out


def bundle_verdict(scenario: str, pattern_id: str) -> tuple[Alert, EvidenceSet, PatternVerdict]:
    """Replay a scenario bundle, gather evidence for every candidate pattern as the graph
    does, and evaluate one pattern on it."""
    registry = PatternRegistry.load()
    bundle, ev = asyncio.run(replay_evidence(scenario, registry))
    alert_ = bundle.primary_alert
    pattern = registry.get(pattern_id)
    assert pattern is not None
    return alert_, ev, evaluate(pattern, alert_, ev)


def action_types(h: RootCauseHypothesis) -> list[str]:
    return [a.type.value for a in h.suggested_actions]


def targets(h: RootCauseHypothesis) -> list[str]:
    return [str(a.target) for a in h.suggested_actions]


def pod(name: str, owner: str, namespace: str = "shop", **fields: object) -> PodState:
    return PodState.model_validate({"name": name, "namespace": namespace, "owner": owner, **fields})
