"""No real incident: the alert is noise, not a problem that needs a person or a fix.

Evaluated for every alert. The key signals are the alert's own history: it flaps (fired and
resolved again and again) or it already resolved after a short blip. Metrics within their
usual range and healthy pods corroborate; any live anomaly, unhealthy pod or NotReady node
counts against it, so it stays quiet on real incidents. It proposes no action: the decision
engine dismisses the alert when this pattern is confident enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from firstline.domain.action import RemediationAction
from firstline.domain.alert import AlertStatus, Severity
from firstline.domain.evidence import KubeEvent, MetricEvidence, NodeState, PodState
from firstline.domain.hypothesis import NO_INCIDENT
from firstline.patterns import queries
from firstline.patterns.base import ALWAYS, Pattern, PatternContext, Scorecard

FLAPPING = 3
CHRONIC_FLAPPING = 6
SHORT_LIVED = timedelta(minutes=10)
RECENT_EVENTS = timedelta(minutes=15)
_TROUBLE_EVENTS = frozenset(
    {
        "BackOff",
        "Failed",
        "FailedScheduling",
        "FailedMount",
        "Unhealthy",
        "OOMKilling",
        "Evicted",
        "NodeNotReady",
        "FailedCreatePodSandBox",
    }
)
# A fall is bad news only for metrics where more is better.
_MORE_IS_BETTER = ("request", "throughput", "success", "ready", "available", "conversion")


@dataclass(frozen=True)
class _Findings:
    flaps: int
    resolved: bool
    lasted: timedelta | None
    metrics: list[MetricEvidence]
    moving: list[MetricEvidence]
    pods: list[PodState]
    trouble: list[PodState]
    bad_nodes: list[NodeState]
    warnings: list[KubeEvent]
    other_alerts: list[str]


def _now(ctx: PatternContext) -> datetime:
    ends = [i.provenance.end for i in ctx.evidence.items if i.provenance.end is not None]
    return max(ends) if ends else ctx.alert.starts_at + timedelta(minutes=5)


def _worrying(metric: MetricEvidence) -> bool:
    if not metric.anomalous:
        return False
    if metric.findings[0].direction == "up":
        return True
    return any(word in metric.name for word in _MORE_IS_BETTER)


def _troubled(pod: PodState) -> bool:
    return (
        pod.phase not in ("Running", "Succeeded")
        or (pod.phase == "Running" and not pod.ready)
        or pod.waiting_reason is not None
    )


def _findings(ctx: PatternContext) -> _Findings:
    ev, alert, component = ctx.evidence, ctx.alert, ctx.component
    now = _now(ctx)
    related = ev.related()
    ended = alert.ends_at is not None and alert.ends_at <= now
    resolved = alert.status is AlertStatus.RESOLVED or ended
    lasted = alert.ends_at - alert.starts_at if resolved and alert.ends_at else None
    metrics = [
        i for i in ev.items if isinstance(i, MetricEvidence) and i.status == "ok" and i.points
    ]
    pods = ev.pods()
    own = [
        p
        for p in pods
        if component and (p.owner == component or p.name.startswith(f"{component}-"))
    ]
    pods = own or pods
    events = ev.events()
    warnings = [
        e
        for e in (events.events if events else [])
        if e.type == "Warning"
        and e.reason in _TROUBLE_EVENTS
        and now - e.last_seen <= RECENT_EVENTS
    ]
    others = [
        a.name
        for a in (related.alerts if related else [])
        if a.status is AlertStatus.FIRING and (a.name, a.service) != (alert.name, alert.service)
    ]
    return _Findings(
        flaps=related.flap_count if related else 0,
        resolved=resolved,
        lasted=lasted,
        metrics=metrics,
        moving=[m for m in metrics if _worrying(m)],
        pods=pods,
        trouble=[p for p in pods if _troubled(p)],
        bad_nodes=[
            n
            for n in ev.nodes()
            if (c := n.condition("Ready")) is not None and c.status in ("False", "Unknown")
        ],
        warnings=warnings,
        other_alerts=sorted(set(others)),
    )


def _heartbeat(ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
    """Watchdog-style alerts fire all the time on purpose (a dead man's switch proving the
    alerting pipeline works; an inhibitor that silences info alerts): no incident."""
    card = Scorecard(prior=-2.5)
    kind = ctx.prior.kind.value if ctx.prior else "heartbeat"
    meaning = ctx.prior.meaning if ctx.prior else ""
    card.add(True, 6.0, f"{ctx.alert.name} is a {kind} that fires by design", "alert")
    cause = f"{ctx.alert.name} is a {kind}, not an incident" + (f": {meaning}" if meaning else "")
    return card, cause, [ctx.alert.name]


class NoRealIncident(Pattern):
    id = NO_INCIDENT
    title = "No real incident (noise)"
    default_severity = Severity.LOW
    universal = True
    metrics = (queries.ERROR_RATE, queries.LATENCY_P99)
    reads = (ALWAYS,)  # the alert's own history and kind are its evidence
    confirm_with = (
        "the alert's history in Alertmanager: how often it fired and resolved",
        "the alerted workload's current state: Ready pods, no recent restarts",
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        if ctx.heartbeat:
            return _heartbeat(ctx)
        card = Scorecard(prior=-2.5)
        f = _findings(ctx)
        flapping = f.flaps >= FLAPPING
        card.add(bool(ctx.recovered), 3.0, f"{ctx.recovered}", "pods")
        card.add(
            flapping,
            3.0,
            f"the alert fired and resolved {f.flaps} times recently",
            "related_alerts",
        )
        card.add(f.flaps >= CHRONIC_FLAPPING, 0.5, "it flaps chronically", "related_alerts")
        minutes = int(f.lasted.total_seconds() // 60) if f.lasted else 0
        card.add(f.resolved, 3.0, "the alert already resolved on its own")
        card.add(
            f.lasted is not None and f.lasted <= SHORT_LIVED,
            0.5,
            f"it fired for only {minutes} min",
        )
        card.add(
            not flapping and not f.resolved,
            -1.5,
            "the alert is firing steadily: neither flapping nor resolved",
        )
        card.add(
            bool(f.metrics) and not f.moving,
            1.0,
            f"{len(f.metrics)} metric(s) within their usual range",
            f.metrics[0].id if f.metrics else None,
        )
        if f.moving:
            card.add(
                True,
                -1.5,
                f"{f.moving[0].name} {f.moving[0].findings[0].sentence}",
                f.moving[0].id,
            )
        card.add(bool(f.pods) and not f.trouble, 0.5, f"{len(f.pods)} pod(s) healthy", "pods")
        card.add(
            bool(f.trouble),
            -1.5,
            f"unhealthy pods: {', '.join(p.name for p in f.trouble[:3])}",
            "pods",
        )
        card.add(bool(f.bad_nodes), -1.0, "a node is NotReady", "nodes")
        card.add(
            bool(f.warnings),
            -0.5,
            f"recent warning events ({', '.join(sorted({e.reason for e in f.warnings}))})",
            "events",
        )
        card.add(
            bool(f.other_alerts),
            -0.5,
            f"other alerts are firing ({', '.join(f.other_alerts[:3])})",
            "related_alerts",
        )
        if flapping:
            cause = (
                f"{ctx.alert.name} is flapping ({f.flaps} fire/resolve cycles) while metrics "
                "and workloads look normal: the alert is noise, tune its threshold or `for:`"
            )
        else:
            cause = (
                f"{ctx.alert.name} resolved on its own after {minutes} min and nothing is "
                "abnormal now: a transient blip"
            )
        return card, cause, [ctx.component or ctx.alert.name]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        return []


PATTERN = NoRealIncident()
