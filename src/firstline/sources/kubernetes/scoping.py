"""Which objects an incident is about, decided on our side from what the API listed.

Ownership follows owner references (Pod -> ReplicaSet -> Deployment), not label selectors:
selectors overlap (a canary, a debug pod with copied labels) and change between revisions,
while owner references are what the controllers act on. Emulators ignore selectors anyway,
so nothing here relies on the server having filtered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from firstline.domain.alert import Alert
from firstline.domain.evidence import KubeEvent, NodeCondition, NodeState, PodState
from firstline.sources.kubernetes.wire import (
    ContainerStatus,
    DeploymentObject,
    EventObject,
    NodeObject,
    PodObject,
    ReplicaSetObject,
    StateTerminated,
)

Key = tuple[str, str]
"""(namespace, name)"""
_IDLE_WAITING = {"ContainerCreating", "PodInitializing"}
_WORKLOAD_LABELS = ("app.kubernetes.io/name", "app")


def _key(namespace: str | None, name: str) -> Key:
    return (namespace or "", name)


def replicaset_owners(replicasets: Iterable[ReplicaSetObject]) -> dict[Key, str | None]:
    """Each ReplicaSet -> the Deployment controlling it (None for a bare ReplicaSet)."""
    owners: dict[Key, str | None] = {}
    for rs in replicasets:
        ref = rs.metadata.controller()
        deployment = ref.name if ref is not None and ref.kind == "Deployment" else None
        owners[_key(rs.metadata.namespace, rs.metadata.name)] = deployment
    return owners


def pod_owner(pod: PodObject, owners: dict[Key, str | None]) -> str | None:
    """The pod's Deployment; for pods of StatefulSets, DaemonSets, Jobs or bare ReplicaSets,
    the name of that controller; None for a bare pod."""
    ref = pod.metadata.controller()
    if ref is None or ref.kind == "Node":  # a static pod's mirror is "owned" by its node
        return None
    if ref.kind != "ReplicaSet":
        return ref.name
    key = _key(pod.metadata.namespace, ref.name)
    if key in owners:
        return owners[key] or ref.name
    # The ReplicaSet was not listed (capped, or the listing failed). A Deployment names its
    # ReplicaSets <deployment>-<pod-template-hash>, and the pod carries that hash as a label.
    template_hash = pod.metadata.labels.get("pod-template-hash")
    if template_hash and ref.name.endswith(f"-{template_hash}"):
        return ref.name[: -len(template_hash) - 1]
    return ref.name


@dataclass(frozen=True)
class Focus:
    """The alert's workload: its controllers, ReplicaSets, pods and the nodes they run on."""

    workloads: frozenset[Key] = frozenset()
    replicasets: frozenset[Key] = frozenset()
    pods: frozenset[Key] = frozenset()
    nodes: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not (self.workloads or self.pods)

    def has_pod(self, namespace: str | None, name: str) -> bool:
        """Listed pods by name; pods already gone (crash-looping pods are replaced) by their
        ReplicaSet's name, which prefixes the pod's."""
        return _key(namespace, name) in self.pods or any(
            ns == (namespace or "") and name.startswith(f"{rs}-") for ns, rs in self.replicasets
        )

    def involves(self, event: EventObject) -> bool:
        obj = event.involved_object
        namespace = obj.namespace or event.metadata.namespace
        kind = obj.kind
        if kind == "Node":
            return obj.name in self.nodes
        if kind == "Pod":
            return self.has_pod(namespace, obj.name)
        if kind == "ReplicaSet":
            return _key(namespace, obj.name) in self.replicasets
        return _key(namespace, obj.name) in self.workloads


def _named_workloads(alert: Alert, service: str | None) -> set[str]:
    names = {alert.labels.get("deployment"), service}
    return {n for n in names if n}


def resolve_focus(
    alert: Alert,
    service: str | None,
    deployments: Sequence[DeploymentObject],
    replicasets: Sequence[ReplicaSetObject],
    pods: Sequence[PodObject],
    owners: dict[Key, str | None],
) -> Focus:
    """From the alert's `pod`, `deployment` and service labels to the objects involved.

    A workload matches by name, or by the conventional app labels on its pod template (an
    alert's `service` is often the app label, not the Deployment's name).
    """
    names = _named_workloads(alert, service)
    workloads = {
        _key(d.metadata.namespace, d.metadata.name)
        for d in deployments
        if d.metadata.name in names
        or any(d.spec.template.metadata.labels.get(k) in names for k in _WORKLOAD_LABELS)
    }
    alert_pod = alert.labels.get("pod")
    focus_pods: set[Key] = set()
    for pod in pods:
        key = _key(pod.metadata.namespace, pod.metadata.name)
        owner = pod_owner(pod, owners)
        if pod.metadata.name == alert_pod:
            focus_pods.add(key)
            if owner:
                workloads.add(_key(pod.metadata.namespace, owner))
    for pod in pods:
        owner = pod_owner(pod, owners)
        if owner and _key(pod.metadata.namespace, owner) in workloads:
            focus_pods.add(_key(pod.metadata.namespace, pod.metadata.name))
    if alert_pod and not focus_pods and alert.namespace:
        focus_pods.add(_key(alert.namespace, alert_pod))  # gone already; its events remain
    sets = {
        _key(rs.metadata.namespace, rs.metadata.name)
        for rs in replicasets
        if (owner := owners.get(_key(rs.metadata.namespace, rs.metadata.name)))
        and _key(rs.metadata.namespace, owner) in workloads
    }
    nodes = {
        p.spec.node_name
        for p in pods
        if p.spec.node_name and _key(p.metadata.namespace, p.metadata.name) in focus_pods
    }
    return Focus(
        workloads=frozenset(workloads),
        replicasets=frozenset(sets),
        pods=frozenset(focus_pods),
        nodes=frozenset(nodes),
    )


# -- conversions ---------------------------------------------------------------------------


def _latest_termination(statuses: Sequence[ContainerStatus]) -> StateTerminated | None:
    """The most recent termination of any container: a crash-looping container's last one
    is in lastState, a container that stopped for good has it in state."""
    found = [
        t
        for s in statuses
        for t in (s.state.terminated, s.last_state.terminated)
        if t is not None and (t.reason or t.exit_code is not None)
    ]
    if not found:
        return None
    return max(found, key=lambda t: t.finished_at.timestamp() if t.finished_at else 0.0)


def _waiting_reason(statuses: Sequence[ContainerStatus]) -> str | None:
    reasons = [
        s.state.waiting.reason for s in statuses if s.state.waiting and s.state.waiting.reason
    ]
    telling = [r for r in reasons if r not in _IDLE_WAITING]
    return next(iter(telling or reasons), None)


def pod_state(pod: PodObject, owner: str | None) -> PodState:
    status = pod.status
    every = [*status.init_container_statuses, *status.container_statuses]
    ready_condition = next((c for c in status.conditions if c.type == "Ready"), None)
    if ready_condition is not None:
        ready = ready_condition.status == "True"
    else:
        ready = bool(status.container_statuses) and all(s.ready for s in status.container_statuses)
    terminated = _latest_termination(every)
    return PodState(
        name=pod.metadata.name,
        namespace=pod.metadata.namespace or "",
        phase=status.phase or "Unknown",
        ready=ready,
        node=pod.spec.node_name,
        owner=owner,
        restart_count=sum(s.restart_count for s in every),
        waiting_reason=_waiting_reason(every),
        # An evicted pod has no container termination, only the pod's own reason.
        last_termination_reason=terminated.reason if terminated else status.reason,
        last_exit_code=terminated.exit_code if terminated else None,
    )


def kube_event(event: EventObject, last_seen: datetime) -> KubeEvent:
    obj = event.involved_object
    count = (event.series.count if event.series else None) or event.count or 1
    return KubeEvent(
        type=event.type or "Normal",
        reason=event.reason or "",
        message=" ".join((event.message or "").split()),
        object=f"{obj.kind.lower()}/{obj.name}",
        count=count,
        last_seen=last_seen,
    )


def node_state(node: NodeObject) -> NodeState:
    return NodeState(
        name=node.metadata.name,
        conditions=[
            NodeCondition(type=c.type, status=c.status, reason=c.reason)
            for c in node.status.conditions
        ],
    )


def node_troubled(node: NodeState) -> bool:
    """Not Ready, or any other condition (MemoryPressure, DiskPressure, PIDPressure,
    NetworkUnavailable) reporting a problem, which those do by being True."""
    for condition in node.conditions:
        if condition.type == "Ready" and condition.status != "True":
            return True
        if condition.type != "Ready" and condition.status == "True":
            return True
    return False
