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
from firstline.domain.evidence import Condition, KubeEvent, NodeCondition, NodeState, PodState
from firstline.sources.kubernetes.wire import (
    ContainerStatus,
    DeploymentObject,
    EventObject,
    NodeObject,
    PodObject,
    ReplicaSetObject,
    StateTerminated,
    StateWaiting,
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


def _latest_termination(
    statuses: Sequence[ContainerStatus],
) -> tuple[str, StateTerminated] | None:
    """The most recent termination of any container, with the container's name: a
    crash-looping container's last one is in lastState, one that stopped for good in state."""
    found = [
        (s.name, t)
        for s in statuses
        for t in (s.state.terminated, s.last_state.terminated)
        if t is not None and (t.reason or t.exit_code is not None)
    ]
    if not found:
        return None
    return max(found, key=lambda f: f[1].finished_at.timestamp() if f[1].finished_at else 0.0)


def _waiting(statuses: Sequence[ContainerStatus]) -> tuple[str, StateWaiting] | None:
    """The most telling waiting state: CrashLoopBackOff or ErrImagePull over a plain
    ContainerCreating."""
    waiting = [(s.name, s.state.waiting) for s in statuses if s.state.waiting]
    found = [(n, w) for n, w in waiting if w is not None and w.reason]
    telling = [(n, w) for n, w in found if w.reason not in _IDLE_WAITING]
    return next(iter(telling or found), None)


def _owner_kind(pod: PodObject, owner: str | None) -> str | None:
    ref = pod.metadata.controller()
    if ref is None or ref.kind == "Node":
        return None
    if ref.kind == "ReplicaSet" and owner is not None and owner != ref.name:
        return "Deployment"
    return ref.kind


def pod_state(pod: PodObject, owner: str | None) -> PodState:
    status = pod.status
    every = [*status.init_container_statuses, *status.container_statuses]
    ready_condition = next((c for c in status.conditions if c.type == "Ready"), None)
    if ready_condition is not None:
        ready = ready_condition.status == "True"
    else:
        ready = bool(status.container_statuses) and all(s.ready for s in status.container_statuses)
    latest = _latest_termination(every)
    terminated = latest[1] if latest else None
    waiting = _waiting(every)
    return PodState(
        name=pod.metadata.name,
        namespace=pod.metadata.namespace or "",
        phase=status.phase or "Unknown",
        ready=ready,
        node=pod.spec.node_name,
        owner=owner,
        owner_kind=_owner_kind(pod, owner),
        labels=pod.metadata.labels,
        container=(waiting or latest or (None, None))[0],
        restart_count=sum(s.restart_count for s in every),
        waiting_reason=waiting[1].reason if waiting else None,
        waiting_message=waiting[1].message if waiting else None,
        # An evicted pod has no container termination, only the pod's own reason.
        last_termination_reason=terminated.reason if terminated else status.reason,
        last_exit_code=terminated.exit_code if terminated else None,
        last_termination_message=terminated.message if terminated else status.message,
        last_termination_at=terminated.finished_at if terminated else None,
        started_at=status.start_time,
        conditions=[
            Condition(type=c.type, status=c.status, reason=c.reason, message=c.message)
            for c in status.conditions
        ],
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
        first_seen=event.first_timestamp,
    )


def node_state(node: NodeObject) -> NodeState:
    return NodeState(
        name=node.metadata.name,
        conditions=[
            NodeCondition(type=c.type, status=c.status, reason=c.reason, message=c.message)
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
