"""Builders for the pattern tests of image_pull_failure, node_not_ready, pod_pending_resources,
cpu_saturation, upstream_dependency_failure and no_real_incident: evidence built by hand, or a
scenario bundle replayed and gathered the way the graph gathers it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firstline.detection.detectors import get_detector
from firstline.domain.alert import Alert, AlertStatus, Severity, fingerprint_labels
from firstline.domain.evidence import (
    ContainerSpec,
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
    NodeCondition,
    NodeEvidence,
    NodeState,
    PodEvidence,
    PodState,
    Provenance,
    RelatedAlertsEvidence,
    Revision,
)
from firstline.graph.gathering import annotate
from firstline.patterns.base import PatternContext
from firstline.patterns.registry import PatternRegistry
from firstline.policy.severity import triage_severity
from tests.unit.patterns.replay import replay_evidence

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
PROV = Provenance(source="test", query="test", start=NOW - timedelta(hours=1), end=NOW)


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def make_alert(
    name: str,
    *,
    started: float = 5,
    ended: float | None = None,
    annotations: dict[str, str] | None = None,
    **labels: str,
) -> Alert:
    """An alert that started `started` minutes ago; resolved `ended` minutes ago if given."""
    merged = {"alertname": name, **labels}
    return Alert(
        source="test",
        name=name,
        status=AlertStatus.FIRING if ended is None else AlertStatus.RESOLVED,
        labels=merged,
        annotations=annotations or {},
        starts_at=ago(started),
        ends_at=None if ended is None else ago(ended),
        fingerprint=fingerprint_labels(merged),
    )


def series(
    name: str,
    base: float,
    *,
    to: float | None = None,
    since: float = 10,
    until: float | None = None,
    unit: str = "",
) -> MetricEvidence:
    """61 one-minute points ending at NOW with a little deterministic jitter; the level is
    `to` from `since` minutes ago (until `until` minutes ago, for a blip). Annotated by the
    detector the graph uses."""
    points = []
    for i in range(61):
        minutes = 60 - i
        inside = to is not None and minutes <= since and (until is None or minutes > until)
        level = to if inside and to is not None else base
        jitter = 1.0 + 0.02 * ((i * 7) % 5 - 2) / 2
        points.append(MetricPoint(ts=ago(minutes), value=level * jitter))
    metric = MetricEvidence(
        id=f"metric:{name}", name=name, unit=unit, provenance=PROV, points=points
    )
    return annotate(metric, get_detector("robust_shift"))


def pod(name: str, owner: str | None = None, namespace: str = "shop", **fields: object) -> PodState:
    return PodState.model_validate({"name": name, "namespace": namespace, "owner": owner, **fields})


def event(
    reason: str, message: str, obj: str, *, kind: str = "Warning", minutes: float = 1
) -> KubeEvent:
    return KubeEvent(type=kind, reason=reason, message=message, object=obj, last_seen=ago(minutes))


def node(name: str, ready: str = "True", reason: str | None = None) -> NodeState:
    return NodeState(
        name=name, conditions=[NodeCondition(type="Ready", status=ready, reason=reason)]
    )


def log(line: str, minutes: float = 1, **labels: str) -> LogEntry:
    return LogEntry(ts=ago(minutes), line=line, labels=labels)


def logs(line: str, *, count: int, start: float = 10, **labels: str) -> list[LogEntry]:
    """`count` copies of a line, one every 20 s from `start` minutes ago."""
    return [log(line, start - i / 3, **labels) for i in range(count)]


def deployment(
    name: str,
    *,
    namespace: str = "shop",
    replicas: int = 3,
    ready: int | None = None,
    revisions: list[tuple[int, float, str]] | None = None,
    cpu_limit: str | None = None,
) -> Deployment:
    """`revisions` are (revision, minutes ago, image)."""
    return Deployment(
        name=name,
        namespace=namespace,
        replicas=replicas,
        ready_replicas=replicas if ready is None else ready,
        revisions=[
            Revision(
                revision=rev,
                created_at=ago(minutes),
                change_cause=f"image {image}",
                containers=[ContainerSpec(name=name, image=image, cpu_limit=cpu_limit)],
            )
            for rev, minutes, image in (revisions or [(1, 60 * 24 * 5, f"{name}:1.0.0")])
        ],
    )


def evidence(
    *,
    metrics: list[MetricEvidence] | None = None,
    log_entries: list[LogEntry] | None = None,
    pods: list[PodState] | None = None,
    events: list[KubeEvent] | None = None,
    nodes: list[NodeState] | None = None,
    deployments: list[Deployment] | None = None,
    related: list[Alert] | None = None,
    flap_count: int = 0,
) -> EvidenceSet:
    items: list[Evidence] = list(metrics or [])
    items.append(LogEvidence(id="logs", provenance=PROV, entries=log_entries or []))
    items.append(
        DeploymentEvidence(id="deployments", provenance=PROV, deployments=deployments or [])
    )
    items.append(PodEvidence(id="pods", provenance=PROV, pods=pods or []))
    items.append(EventEvidence(id="events", provenance=PROV, events=events or []))
    items.append(NodeEvidence(id="nodes", provenance=PROV, nodes=nodes or []))
    items.append(
        RelatedAlertsEvidence(
            id="related_alerts", provenance=PROV, alerts=related or [], flap_count=flap_count
        )
    )
    return EvidenceSet(items=items)


def context(alert: Alert, ev: EvidenceSet, severity: Severity = Severity.MEDIUM) -> PatternContext:
    return PatternContext(alert=alert, severity=severity, evidence=ev)


async def bundle_context(name: str) -> PatternContext:
    """Replay scenarios/<name> and gather its evidence with every pattern's queries."""
    bundle, ev = await replay_evidence(name, PatternRegistry.load(), every_pattern=True)
    alert = bundle.primary_alert
    severity, _ = triage_severity(alert, None)
    return PatternContext(alert=alert, severity=severity, evidence=ev)
