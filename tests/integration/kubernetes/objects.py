"""Kubernetes objects as the API serves them (plain JSON dicts), for loading into kmock.

kmock runs no controllers, so what a cluster would create by itself (ReplicaSets stamped with
revisions, pods with owner references, events) is written out here by hand, the way the
Deployment controller and the kubelet would have written it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2026, 7, 21, 15, 0, tzinfo=UTC)
ALERT_AT = NOW - timedelta(minutes=2)

Obj = dict[str, Any]


def ts(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(name: str, namespace: str | None, minutes_ago: float, **extra: Any) -> Obj:
    meta: Obj = {
        "name": name,
        "uid": f"uid-{namespace}-{name}",
        "creationTimestamp": ts(minutes_ago),
    }
    if namespace is not None:
        meta["namespace"] = namespace
    meta.update({k: v for k, v in extra.items() if v})
    return meta


def container(
    name: str, image: str, env: dict[str, str] | None = None, memory: str | None = None
) -> Obj:
    spec: Obj = {"name": name, "image": image}
    if env:
        spec["env"] = [{"name": k, "value": v} for k, v in env.items()]
    if memory:
        spec["resources"] = {"limits": {"memory": memory, "cpu": "500m"}}
    return spec


def deployment(
    name: str,
    namespace: str = "shop",
    *,
    containers: list[Obj] | None = None,
    replicas: int = 3,
    ready: int = 3,
    app: str | None = None,
    progressed_minutes_ago: float | None = None,
) -> Obj:
    labels = {"app": app or name}
    status: Obj = {"replicas": replicas, "readyReplicas": ready}
    if progressed_minutes_ago is not None:
        status["conditions"] = [
            {
                "type": "Progressing",
                "status": "True",
                "reason": "NewReplicaSetAvailable",
                "lastUpdateTime": ts(progressed_minutes_ago),
                "lastTransitionTime": ts(60 * 24 * 30),
            }
        ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, namespace, 60 * 24 * 30, labels=labels),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": containers or [container(name, f"shop/{name}:1.0.0")]},
            },
        },
        "status": status,
    }


def replicaset(
    owner: Obj | None,
    revision: int | None,
    template_hash: str,
    *,
    containers: list[Obj],
    minutes_ago: float,
    change_cause: str | None = None,
    revision_history: str | None = None,
    name: str | None = None,
    namespace: str = "shop",
    labels: dict[str, str] | None = None,
) -> Obj:
    """A ReplicaSet as the Deployment controller writes it: named <deployment>-<hash>,
    controlled by the Deployment, stamped with the revision and the change-cause."""
    base = owner["metadata"]["name"] if owner else "bare"
    annotations: dict[str, str] = {}
    if revision is not None:
        annotations["deployment.kubernetes.io/revision"] = str(revision)
    if change_cause:
        annotations["kubernetes.io/change-cause"] = change_cause
    if revision_history:
        annotations["deployment.kubernetes.io/revision-history"] = revision_history
    pod_labels = {**(labels or {"app": base}), "pod-template-hash": template_hash}
    refs = []
    if owner is not None:
        refs = [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
            }
        ]
    rs_name = name or f"{base}-{template_hash}"
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": _meta(
            rs_name,
            namespace,
            minutes_ago,
            labels=pod_labels,
            annotations=annotations,
            ownerReferences=refs,
        ),
        "spec": {
            "replicas": 1,
            "template": {"metadata": {"labels": pod_labels}, "spec": {"containers": containers}},
        },
    }


def terminated(reason: str, exit_code: int, minutes_ago: float) -> Obj:
    return {"terminated": {"reason": reason, "exitCode": exit_code, "finishedAt": ts(minutes_ago)}}


def pod(
    name: str,
    owner: Obj | None = None,
    *,
    namespace: str = "shop",
    node: str = "node-a",
    phase: str = "Running",
    ready: bool = True,
    restarts: int = 0,
    state: Obj | None = None,
    last_state: Obj | None = None,
    init_statuses: list[Obj] | None = None,
    reason: str | None = None,
    labels: dict[str, str] | None = None,
) -> Obj:
    """A pod; `owner` is the controlling object (a ReplicaSet, a StatefulSet...)."""
    pod_labels = dict(labels or {})
    refs = []
    if owner is not None:
        refs = [
            {
                "apiVersion": owner.get("apiVersion", "apps/v1"),
                "kind": owner["kind"],
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
            }
        ]
        template_labels = owner.get("spec", {}).get("template", {}).get("metadata", {})
        pod_labels = {**template_labels.get("labels", {}), **pod_labels}
    status: Obj = {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        "containerStatuses": [
            {
                "name": "app",
                "ready": ready,
                "restartCount": restarts,
                "state": state or {"running": {"startedAt": ts(30)}},
                "lastState": last_state or {},
            }
        ],
    }
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    if reason:
        status["reason"] = reason
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(name, namespace, 60, labels=pod_labels, ownerReferences=refs),
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": "x"}]},
        "status": status,
    }


def event(
    involved_kind: str,
    involved_name: str,
    reason: str,
    *,
    minutes_ago: float,
    namespace: str = "shop",
    type_: str = "Normal",
    message: str = "",
    count: int = 1,
) -> Obj:
    name = f"{involved_name}.{reason.lower()}.{int(minutes_ago * 60)}"
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": _meta(name, namespace, minutes_ago),
        "involvedObject": {"kind": involved_kind, "name": involved_name, "namespace": namespace},
        "reason": reason,
        "message": message,
        "type": type_,
        "count": count,
        "firstTimestamp": ts(minutes_ago + 5),
        "lastTimestamp": ts(minutes_ago),
    }


def node(name: str, *, ready: bool = True, **pressure: bool) -> Obj:
    """`pressure` names other conditions that are True, e.g. DiskPressure=True."""
    conditions = [
        {
            "type": "Ready",
            "status": "True" if ready else "Unknown",
            "reason": "KubeletReady" if ready else "NodeStatusUnknown",
        }
    ]
    for kind in ("MemoryPressure", "DiskPressure", "PIDPressure"):
        conditions.append({"type": kind, "status": "True" if pressure.get(kind) else "False"})
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": _meta(name, None, 60 * 24 * 90),
        "status": {"conditions": conditions},
    }
