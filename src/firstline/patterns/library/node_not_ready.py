"""Node not ready: a node stopped being Ready, and the pods on it stopped serving.

Typical alerts: KubeNodeNotReady, KubeNodeUnreachable, KubeletDown, or the workload alerts that
follow (KubePodNotReady, replica mismatches). The key signal is a node whose Ready condition
is False or Unknown (the kubelet stopped posting status) that the alert is about or that hosts
the alerted workload's pods. Cordoning and draining a node moves every workload on it, so the
pattern hands a person the exact steps instead of acting.
"""

from __future__ import annotations

from dataclasses import dataclass

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import AlertStatus, Severity
from firstline.domain.evidence import EvidenceSet, KubeEvent, NodeState, PodState
from firstline.patterns.base import Pattern, PatternContext, Scorecard

_NODE_EVENT_REASONS = (
    "NodeNotReady",
    "NodeStatusUnknown",
    "NodeUnreachable",
    "TaintManagerEviction",
)
_NODE_EVENT_WORDS = ("stopped posting node status", "node is not ready", "nodenotready")


@dataclass(frozen=True)
class _Findings:
    bad: list[NodeState]
    relevant: list[NodeState]
    stranded: list[PodState]
    events: list[KubeEvent]
    node_alerts: list[str]


def _not_ready(node: NodeState) -> bool:
    ready = node.condition("Ready")
    return ready is not None and ready.status in ("False", "Unknown")


def _describe(node: NodeState) -> str:
    ready = node.condition("Ready")
    status = ready.status if ready else "?"
    reason = f" ({ready.reason})" if ready and ready.reason else ""
    return f"{node.name} Ready={status}{reason}"


def _owned(pod: PodState, component: str | None) -> bool:
    return component is not None and (
        pod.owner == component or pod.name.startswith(f"{component}-")
    )


def _node_events(ev: EvidenceSet, names: set[str]) -> list[KubeEvent]:
    found = ev.events()
    if found is None:
        return []
    return [
        e
        for e in found.events
        if e.object.split("/")[-1] in names
        and (
            e.reason in _NODE_EVENT_REASONS
            or any(w in e.message.lower() for w in _NODE_EVENT_WORDS)
        )
    ]


def _findings(ctx: PatternContext) -> _Findings:
    ev = ctx.evidence
    bad = [n for n in ev.nodes() if _not_ready(n)]
    named = {v for k, v in ctx.alert.labels.items() if k in ("node", "instance", "kubernetes_node")}
    own_pod = ctx.alert.labels.get("pod")
    pods = ev.pods()
    hosting = {p.node for p in pods if p.node and (_owned(p, ctx.component) or p.name == own_pod)}
    relevant = [
        n
        for n in bad
        if n.name in hosting or any(n.name == v or v.startswith(n.name) for v in named)
    ]
    names = {n.name for n in relevant}
    stranded = [
        p for p in pods if p.node in names and (not p.ready or p.phase in ("Unknown", "Failed"))
    ]
    related = ev.related()
    node_alerts = [
        a.name
        for a in (related.alerts if related else [])
        if a.status is AlertStatus.FIRING and a.labels.get("node") in names
    ]
    return _Findings(bad, relevant, stranded, _node_events(ev, names), sorted(set(node_alerts)))


class NodeNotReady(Pattern):
    id = "node_not_ready"
    title = "Node not ready"
    default_severity = Severity.HIGH
    alert_names = (
        r"KubeNodeNotReady",
        r"KubeNodeUnreachable",
        r"KubeNodeReadinessFlapping",
        r"KubeletDown",
        r".*Node.*(NotReady|Unreachable|Down).*",
        r"KubePodNotReady",
        r"KubeDeploymentReplicasMismatch",
        r"KubeStatefulSetReplicasMismatch",
    )

    confirm_with = (
        "kubectl describe node: the Ready condition's reason and last heartbeat",
        "the kubelet's logs on the node (journalctl -u kubelet)",
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        f = _findings(ctx)
        card.add(
            bool(f.relevant),
            3.0,
            f"node {', '.join(_describe(n) for n in f.relevant)} is not ready",
            "nodes",
        )
        card.add(
            bool(f.stranded),
            1.0,
            f"{len(f.stranded)} pod(s) on it are not ready "
            f"({', '.join(sorted({p.owner or p.name for p in f.stranded}))})",
            "pods",
        )
        card.add(
            bool(f.events),
            0.5,
            f"node events: {f.events[0].reason} {f.events[0].message[:120]}" if f.events else "",
            "events",
        )
        card.add(
            bool(f.node_alerts),
            0.5,
            f"node alerts fire for it too ({', '.join(f.node_alerts)})",
            "related_alerts",
        )
        card.add(
            bool(f.bad) and not f.relevant,
            -1.0,
            f"NotReady node(s) {', '.join(n.name for n in f.bad)} host none of the alerted pods",
            "nodes",
        )
        card.add(not f.relevant, -2.0, "no NotReady node is behind this alert")
        culprit = next(iter(f.relevant or f.bad), None)
        node = culprit.name if culprit else "the node"
        ready = culprit.condition("Ready") if culprit else None
        why = (
            "the kubelet stopped posting node status"
            if ready is None or ready.status == "Unknown"
            else f"the kubelet reports it NotReady ({ready.reason or 'no reason given'})"
        )
        workloads = sorted({p.owner for p in f.stranded if p.owner})
        cause = f"node {node} is not ready: {why}; the pods on it stopped serving"
        if workloads:
            cause += f" ({', '.join(workloads)})"
        return card, cause, [node, *workloads]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        node = components[0]
        steps = [
            f"kubectl describe node {node}: confirm Ready is False/Unknown and since when",
            f"kubectl cordon {node} so nothing new is scheduled there",
            "check that the other nodes have room for the evicted pods and that "
            "PodDisruptionBudgets allow it",
            f"kubectl drain {node} --ignore-daemonsets --delete-emptydir-data --timeout=10m",
            "on the host (or the cloud console): systemctl status kubelet containerd; "
            "journalctl -u kubelet --since '-30 min'; instance status checks",
            "StatefulSet pods on it stay Terminating until the node is confirmed gone: only "
            f"after confirming the instance is down, kubectl delete node {node}",
            f"if the instance is impaired, replace it through its node group; if it recovers, "
            f"kubectl uncordon {node}",
        ]
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                Target(kind="node", name=node),
                rationale=(
                    "cordoning and draining a node moves every workload on it; a person must "
                    "check capacity and disruption budgets first"
                ),
                steps=steps,
            )
        ]


PATTERN = NodeNotReady()
