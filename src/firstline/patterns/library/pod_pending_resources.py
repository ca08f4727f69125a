"""Pods pending for lack of resources: the scheduler finds no node with room for them.

Typical alerts: KubeDeploymentReplicasMismatch, KubePodNotReady, KubeStatefulSetReplicasMismatch,
KubeCPUOvercommit/KubeMemoryOvercommit. The key signal is a FailedScheduling event saying
"0/N nodes are available: N Insufficient cpu/memory" for the workload's unscheduled pods.
Adding capacity or lowering requests is a cost and capacity decision, so the pattern gives a
person the steps and never acts on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.domain.evidence import Deployment, KubeEvent, PodState
from firstline.patterns.base import Pattern, PatternContext, Scorecard

_INSUFFICIENT = re.compile(r"insufficient ([a-z0-9./_-]+)", re.IGNORECASE)
_TOO_MANY_PODS = "too many pods"
_SCALE_UP_BLOCKED = ("max node group size reached", "nottriggerscaleup", "max cluster")


@dataclass(frozen=True)
class _Findings:
    pending: list[PodState]
    capacity_events: list[KubeEvent]
    other_events: list[KubeEvent]
    autoscaler: list[KubeEvent]
    resources: list[str]
    deployment: Deployment | None


def _is_capacity(event: KubeEvent) -> bool:
    message = event.message.lower()
    return bool(_INSUFFICIENT.search(message)) or _TOO_MANY_PODS in message


def _condition_events(
    pending: list[PodState], ctx: PatternContext, seen: set[str]
) -> list[KubeEvent]:
    """The scheduler's verdict is also in each pod's PodScheduled condition; events expire
    after an hour, the condition stays while the pod waits."""
    found = []
    for pod in pending:
        condition = pod.condition("PodScheduled")
        if condition is None or condition.status != "False" or f"pod/{pod.name}" in seen:
            continue
        found.append(
            KubeEvent(
                type="Warning",
                reason="FailedScheduling",
                message=condition.message or condition.reason or "",
                object=f"pod/{pod.name}",
                last_seen=pod.started_at or ctx.alert.starts_at,
            )
        )
    return found


def _findings(ctx: PatternContext) -> _Findings:
    ev, component = ctx.evidence, ctx.workload()
    own = [p for p in ev.pods() if ctx.owns(p, component)]
    pending = [p for p in own if p.phase == "Pending" and p.node is None and not p.waiting_reason]
    objects = {f"pod/{p.name}" for p in pending}
    found = ev.events()
    events = found.events if found else []
    scheduling = [e for e in events if e.reason == "FailedScheduling" and e.object in objects]
    scheduling += _condition_events(pending, ctx, {e.object for e in scheduling})
    capacity = [e for e in scheduling if _is_capacity(e)]
    autoscaler = [
        e
        for e in events
        if e.object in objects
        and (
            e.reason == "NotTriggerScaleUp"
            or any(w in e.message.lower() for w in _SCALE_UP_BLOCKED)
        )
    ]
    resources = sorted(
        {m.group(1).lower() for e in capacity for m in _INSUFFICIENT.finditer(e.message)}
    )
    owners = {p.owner for p in pending if p.owner} | ({component} if component else set())
    deployment = next((d for d in ev.deployments() if d.name in owners), None)
    return _Findings(
        pending=pending,
        capacity_events=capacity,
        other_events=[e for e in scheduling if not _is_capacity(e)],
        autoscaler=autoscaler,
        resources=resources or (["pods"] if capacity else []),
        deployment=deployment,
    )


class PodPendingResources(Pattern):
    id = "pod_pending_resources"
    title = "Pods pending: insufficient cluster resources"
    default_severity = Severity.MEDIUM
    alert_names = (
        r"KubeDeploymentReplicasMismatch",
        r"KubeStatefulSetReplicasMismatch",
        r"KubeDeploymentRolloutStuck",
        r"KubePodNotReady",
        r"KubeHpaMaxedOut",
        r"Kube(CPU|Memory)(Quota)?Overcommit",
        r".*Pending.*",
        r".*Unschedulable.*",
    )

    symptom_is_current = True
    confirm_with = (
        "kubectl describe pod: the FailedScheduling message (Insufficient cpu/memory)",
        "kubectl describe nodes: allocated requests against allocatable",
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        f = _findings(ctx)
        card.add(bool(f.pending), 1.0, f"{len(f.pending)} pod(s) Pending and unscheduled", "pods")
        if f.capacity_events:
            card.add(True, 3.0, f"FailedScheduling: {f.capacity_events[0].message}", "events")
        card.add(
            bool(f.autoscaler),
            0.5,
            f"cluster-autoscaler cannot add nodes: {f.autoscaler[0].message[:140]}"
            if f.autoscaler
            else "",
            "events",
        )
        dep = f.deployment
        card.add(
            dep is not None and dep.ready_replicas < dep.replicas,
            0.3,
            f"{dep.name} has {dep.ready_replicas}/{dep.replicas} ready replicas" if dep else "",
            "deployments",
        )
        card.add(
            bool(f.other_events) and not f.capacity_events,
            -1.0,
            "the scheduler rejects the pods for a reason other than capacity: "
            + (f.other_events[0].message[:140] if f.other_events else ""),
            "events",
        )
        card.add(
            not f.capacity_events, -2.0, "no FailedScheduling event reports insufficient resources"
        )
        component = dep.name if dep else (ctx.workload() or "the workload")
        what = "/".join(f.resources) or "resources"
        cause = (
            f"{component}'s new pods cannot be scheduled: no node has enough free {what} "
            "for their requests"
        )
        return card, cause, [component]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        f = _findings(ctx)
        ns = ctx.namespace or "<namespace>"
        what = "/".join(f.resources) or "cpu/memory"
        pod = f.pending[0].name if f.pending else "<pending pod>"
        steps = [
            f"kubectl -n {ns} describe pod {pod}: read the FailedScheduling event",
            "kubectl describe nodes | grep -A8 'Allocated resources'; kubectl top nodes: "
            f"see how much {what} is requested versus allocatable",
            "add capacity: raise the node group's maximum size (cluster-autoscaler"
            + (" reports it is at its maximum" if f.autoscaler else "")
            + ") or add a node pool that fits these pods",
            f"or lower {components[0]}'s {what} requests if they are far above real usage, "
            "or scale down lower-priority workloads to free room",
            f"watch kubectl -n {ns} get pods -l app={components[0]} until the pods are Running",
        ]
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                Target(kind="deployment", name=components[0], namespace=ctx.namespace),
                rationale=(
                    "the cluster is out of schedulable capacity; adding nodes or changing "
                    "requests is a capacity and cost decision for a person"
                ),
                steps=steps,
            )
        ]


PATTERN = PodPendingResources()
