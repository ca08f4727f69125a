"""CPU saturation: the workload needs more CPU than its limit gives it, so it is throttled.

Typical alerts: CPUThrottlingHigh, HighLatency, KubeHpaMaxedOut, app alerts on CPU. The key
signals are a high CFS throttling ratio (the mixin alerts at 25%) or usage pinned at the CPU
limit; latency rising with it corroborates. When traffic grew, more replicas share the load;
when the load is flat, the limit is simply too low for the work and is raised.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, ParamValue, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.domain.evidence import ContainerSpec, Deployment, MetricEvidence, Revision
from firstline.domain.query import MetricQuery
from firstline.patterns import queries
from firstline.patterns.base import Pattern, PatternContext, Scorecard

CPU_LIMIT = MetricQuery(
    name="cpu_limit_cores",
    unit="cores",
    promql=(
        'max(kube_pod_container_resource_limits{namespace="$namespace",'
        'pod=~"$service-.*",resource="cpu"})'
    ),
    description="Per-container CPU limit of the workload's pods.",
)
THROTTLED_HIGH = 0.25  # CPUThrottlingHigh's threshold in the kubernetes mixin
AT_LIMIT = 0.85
RECENT_ROLLOUT = timedelta(hours=2)


@dataclass(frozen=True)
class _Findings:
    throttle: float | None
    throttle_rising: bool
    usage_per_pod: float | None
    limit: float | None
    usage_rising: bool
    latency_rising: bool
    load_ratio: float | None
    deployment: Deployment | None
    rollout: Revision | None

    @property
    def throttled(self) -> bool:
        return self.throttle is not None and self.throttle >= THROTTLED_HIGH

    @property
    def at_limit(self) -> bool:
        if self.usage_per_pod is None or not self.limit:
            return False
        return self.usage_per_pod >= AT_LIMIT * self.limit

    @property
    def load_rising(self) -> bool:
        return self.load_ratio is not None and self.load_ratio >= 1.3


def parse_cpu(value: str | None) -> float | None:
    """Kubernetes CPU quantity to cores: '500m' -> 0.5, '2' -> 2.0."""
    if not value:
        return None
    try:
        return float(value[:-1]) / 1000 if value.endswith("m") else float(value)
    except ValueError:
        return None


def format_cpu(cores: float) -> str:
    return f"{round(cores * 1000)}m" if cores < 1 or cores * 1000 % 1000 else f"{cores:g}"


def _recent(metric: MetricEvidence | None) -> float | None:
    if metric is None or not metric.points:
        return None
    return statistics.median(p.value for p in metric.points[-5:])


def _rising(metric: MetricEvidence | None) -> bool:
    return bool(metric and metric.anomalous and metric.findings[0].direction == "up")


def _now(ctx: PatternContext) -> datetime:
    ends = [i.provenance.end for i in ctx.evidence.items if i.provenance.end is not None]
    return max(ends) if ends else ctx.alert.starts_at + timedelta(minutes=5)


def _container(dep: Deployment | None, component: str | None) -> ContainerSpec | None:
    if dep is None or dep.current is None or not dep.current.containers:
        return None
    containers = dep.current.containers
    return next((c for c in containers if c.name == component), containers[0])


def _findings(ctx: PatternContext) -> _Findings:
    ev, component = ctx.evidence, ctx.component
    dep = next((d for d in ev.deployments() if d.name == component), None)
    container = _container(dep, component)
    limit_metric = _recent(ev.metric(CPU_LIMIT.name))
    limit = limit_metric or parse_cpu(container.cpu_limit if container else None)
    running = [
        p
        for p in ev.pods()
        if p.phase == "Running" and (p.owner == component or p.name.startswith(f"{component}-"))
    ]
    replicas = len(running) or (dep.ready_replicas if dep else 0) or 1
    usage = _recent(ev.metric(queries.CPU_USAGE.name))
    rate = ev.metric(queries.REQUEST_RATE.name)
    finding = rate.findings[0] if rate and rate.anomalous else None
    load_ratio = (
        finding.current / finding.baseline
        if finding and finding.current is not None and finding.baseline
        else None
    )
    rollout = None
    if dep and dep.current and dep.previous and dep.current.images != dep.previous.images:
        rollout = dep.current if _now(ctx) - dep.current.created_at <= RECENT_ROLLOUT else None
    throttle_metric = ev.metric(queries.CPU_THROTTLED.name)
    return _Findings(
        throttle=_recent(throttle_metric),
        throttle_rising=_rising(throttle_metric),
        usage_per_pod=usage / replicas if usage is not None else None,
        limit=limit,
        usage_rising=_rising(ev.metric(queries.CPU_USAGE.name)),
        latency_rising=_rising(ev.metric(queries.LATENCY_P99.name)),
        load_ratio=load_ratio,
        deployment=dep,
        rollout=rollout,
    )


class CpuSaturation(Pattern):
    id = "cpu_saturation"
    title = "CPU saturation / throttling"
    default_severity = Severity.MEDIUM
    alert_names = (
        r"CPUThrottlingHigh",
        r".*CPU.*",
        r".*Throttl.*",
        r"KubeHpaMaxedOut",
        r"HighLatency",
        r".*Latency.*",
        r".*Slow.*",
        r"HighErrorRate",
    )
    metrics = (
        queries.CPU_USAGE,
        queries.CPU_THROTTLED,
        queries.LATENCY_P99,
        queries.REQUEST_RATE,
        CPU_LIMIT,
    )

    confirm_with = (
        "CPU usage against the limit and the throttled-periods ratio",
        "request rate: is the load itself higher?",
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        f = _findings(ctx)
        throttled_ref = f"metric:{queries.CPU_THROTTLED.name}"
        usage_ref = f"metric:{queries.CPU_USAGE.name}"
        card.add(
            f.throttled,
            2.5,
            f"CPU throttled in {(f.throttle or 0) * 100:.0f}% of CFS periods",
            throttled_ref,
        )
        card.add(f.throttle_rising, 0.5, "throttling rose in the last minutes", throttled_ref)
        card.add(
            f.at_limit,
            0.75 if f.throttled else 1.5,
            f"CPU usage ~{f.usage_per_pod or 0:.2f} cores per pod against a "
            f"{f.limit or 0:g}-core limit",
            usage_ref,
        )
        card.add(f.usage_rising, 0.5, "CPU usage rose", usage_ref)
        card.add(f.latency_rising, 1.0, "p99 latency rose with it", "metric:latency_p99")
        card.add(
            f.load_rising,
            0.5,
            f"request rate grew {f.load_ratio or 0:.1f}x",
            f"metric:{queries.REQUEST_RATE.name}",
        )
        card.add(
            f.rollout is not None,
            -1.0,
            f"a new revision rolled out recently ({f.rollout.change_cause or 'new image'}): "
            "new code may be what burns CPU"
            if f.rollout
            else "",
            "deployments",
        )
        card.add(
            not f.throttled and not f.at_limit,
            -2.0,
            "CPU is neither throttled nor at its limit",
        )
        component = ctx.component or "the workload"
        why = (
            "traffic grew beyond what its replicas can serve"
            if f.load_rising
            else "its CPU limit is too low for its steady load"
        )
        state = "throttled" if f.throttled else "pinned at its CPU limit"
        cause = f"{component} is CPU-saturated ({state}): {why}"
        return card, cause, [component]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        f = _findings(ctx)
        target = Target(kind="deployment", name=components[0], namespace=ctx.namespace)
        dep = f.deployment
        if f.load_rising and f.load_ratio is not None:
            current = dep.replicas if dep else 1
            wanted = max(current + 1, math.ceil(current * f.load_ratio))
            replicas = min(wanted, current * 2)
            return [
                make_action(
                    ActionType.SCALE,
                    target,
                    parameters={"replicas": replicas, "from_replicas": current},
                    rationale=(
                        f"traffic grew {f.load_ratio:.1f}x and every pod is at its CPU limit; "
                        "more replicas spread the load"
                    ),
                )
            ]
        container = _container(dep, components[0])
        params: dict[str, ParamValue] = {"resource": "cpu"}
        if container is not None:
            params["container"] = container.name
        if f.limit:
            params["from"] = format_cpu(f.limit)
            params["to"] = format_cpu(f.limit * 2)
        return [
            make_action(
                ActionType.RAISE_RESOURCE_LIMIT,
                target,
                parameters=params,
                rationale=(
                    "the load is steady but the pods are throttled at their CPU limit; a higher "
                    "limit lets them finish requests in time"
                ),
            )
        ]


PATTERN = CpuSaturation()
