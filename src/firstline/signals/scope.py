"""Scope: which workload an alert is about, resolved from its labels and the cluster.

Alerts name the broken thing in many ways: `pod`, `job_name` (kube-state-metrics), a
`deployment`/`statefulset`/`daemonset` label, an app's own `service` or `app`, a
`container`. They also carry labels that name the *reporter* (the exporter's `job`,
`service`, `instance`). The alert catalog says which is which for the alerts it knows; for
the rest the conventions below apply. Owner resolution then ties pods to the workload, so
that evidence about a neighbour in the same namespace is context, never the cause.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from firstline.domain.alert import Alert, workload_of_pod
from firstline.domain.evidence import PodState

# The order people's labels name a workload in, most specific first.
WORKLOAD_LABELS = (
    "deployment",
    "statefulset",
    "daemonset",
    "job_name",
    "cronjob",
    "kube_deployment",
    "kube_job",
    "workload_name",
    "workload",
    "replicaset",
    "service",
    "app",
    "app_kubernetes_io_name",
    "pod",
    "job",
    "container",
)
# Labels that carry an exporter's identity far more often than a workload's.
_EXPORTERS = (
    "kube-state-metrics",
    "node-exporter",
    "blackbox",
    "cadvisor",
    "kubelet",
    "kube-prometheus-stack",
    "prometheus-operator",
    "apiserver",
    "cert-manager",
)
_NOT_WORKLOADS = {"", "pod", "container", "pods", "kubernetes-pods", "kubernetes-nodes"}
_JOB_POD_LABELS = ("job-name", "batch.kubernetes.io/job-name")
_REPLICASET = re.compile(r"^(?P<name>[a-z0-9.-]+?)-[a-z0-9]{6,10}$")


def _is_reporter(value: str) -> bool:
    lowered = value.lower()
    return lowered in _NOT_WORKLOADS or any(name in lowered for name in _EXPORTERS)


@dataclass(frozen=True)
class WorkloadScope:
    """The alerting workload: its names (a Deployment, Job...), the pods the alert names,
    and the label it came from. Empty when the alert names no workload (a namespace- or
    cluster-level alert): then everything in the namespace is in scope."""

    namespace: str | None = None
    workloads: frozenset[str] = frozenset()
    pods: frozenset[str] = frozenset()
    kind: str | None = None
    label: str | None = None
    primary: str | None = None
    reporter_labels: frozenset[str] = field(default_factory=frozenset)
    endpoint: str | None = None
    """An endpoint the alert is about that names no workload (a blackbox probe's URL): no
    pod is then in scope. Before, such an alert took in the whole namespace, and another
    workload's OOM-killed pods explained a failed probe of an outside service."""

    @property
    def empty(self) -> bool:
        return not self.workloads and not self.pods

    def owns(self, pod: PodState) -> bool:
        """Whether a pod belongs to the alerting workload (or is the alerted pod)."""
        if self.endpoint is not None and self.empty:
            return False
        if self.empty:
            return self.namespace is None or pod.namespace in ("", self.namespace)
        if pod.name in self.pods:
            return True
        if pod.owner is not None and pod.owner in self.workloads:
            return True
        if any(pod.labels.get(key) in self.workloads for key in _JOB_POD_LABELS):
            return True
        # Without an owner, fall back to the naming convention <workload>-<hash>-<id>.
        return pod.owner is None and workload_of_pod(pod.name) in self.workloads

    def names(self, subject: str) -> bool:
        """Whether an object reference ('pod/x', 'job/y', 'deployment/z') is in scope."""
        _, _, name = subject.rpartition("/")
        if self.endpoint is not None and self.empty:
            return False
        if self.empty:
            return True
        if name in self.workloads or name in self.pods:
            return True
        if self.kind == "Job" and any(
            re.fullmatch(rf"{re.escape(w)}-[a-z0-9]{{5}}", name) for w in self.workloads
        ):  # a Job's pods: generateName "<job>-"
            return True
        owner = workload_of_pod(name) or _replicaset_owner(name)
        return owner is not None and owner in self.workloads

    def select(self, pods: Iterable[PodState]) -> list[PodState]:
        return [p for p in pods if self.owns(p)]


def _replicaset_owner(name: str) -> str | None:
    match = _REPLICASET.match(name)
    return match.group("name") if match else None


def _candidates(
    alert: Alert, preferred: Sequence[str], reporters: frozenset[str]
) -> list[tuple[str, str]]:
    # only labels that can name a workload; a catalog's `namespace` or `node` is a place
    known = [k for k in preferred if k in WORKLOAD_LABELS]
    order = [*known, *(k for k in WORKLOAD_LABELS if k not in known)]
    found = []
    for key in order:
        value = alert.labels.get(key, "").strip()
        if not value or key in reporters or (key not in _KINDS and _is_reporter(value)):
            continue
        found.append((key, value))
    return found


_KINDS = {
    "deployment": "Deployment",
    "kube_deployment": "Deployment",
    "statefulset": "StatefulSet",
    "daemonset": "DaemonSet",
    "job_name": "Job",
    "kube_job": "Job",
    "cronjob": "CronJob",
}


def _endpoint(
    alert: Alert, workload_labels: Sequence[str], reporters: frozenset[str]
) -> str | None:
    """What an alert naming no workload is about, when it is not the namespace: a probed URL
    (blackbox's `instance` or `target`), or the host an exporter watches (a database's,
    a cache's `instance`, where the family does not count `instance` as the reporter's own
    address, as kube-state-metrics' is). Such an alert is about that endpoint: the pods of
    whatever else runs in the namespace are not its evidence."""
    for key in workload_labels:
        if "://" in alert.labels.get(key, ""):
            return alert.labels[key]
    instance = alert.labels.get("instance", "").strip()
    if instance and "instance" not in reporters:
        return instance
    return None


def resolve_scope(
    alert: Alert,
    pods: Sequence[PodState] = (),
    workload_labels: Sequence[str] = (),
    reporter_labels: Sequence[str] = (),
) -> WorkloadScope:
    """The alert's workload from its labels, then through owner references: a pod label
    resolves to its owner; a ReplicaSet name to its Deployment."""
    reporters = frozenset(reporter_labels)
    found = _candidates(alert, workload_labels, reporters)
    if not found:
        endpoint = _endpoint(alert, workload_labels, reporters)
        return WorkloadScope(namespace=alert.namespace, reporter_labels=reporters,
                             endpoint=endpoint)  # fmt: skip
    label, value = found[0]
    workloads: set[str] = set()
    named_pods: set[str] = set()
    if label == "pod":
        named_pods.add(value)
        pod = next((p for p in pods if p.name == value), None)
        owner = pod.owner if pod is not None else workload_of_pod(value)
        if owner:
            workloads.add(owner)
    elif label == "replicaset":
        workloads.add(_replicaset_owner(value) or value)
    else:
        workloads.add(value)
    # A pod label next to a workload label pins the alerted pod too.
    if label != "pod" and (pod_name := alert.labels.get("pod")) and not _is_reporter(pod_name):
        named_pods.add(pod_name)
    primary = next(iter(sorted(workloads)), None) or value
    return WorkloadScope(
        namespace=alert.namespace,
        workloads=frozenset(workloads),
        pods=frozenset(named_pods),
        kind=_KINDS.get(label),
        label=label,
        primary=primary,
        reporter_labels=reporters,
    )
