"""The Kubernetes resources firstline acts on, and which target kinds each action accepts."""

from __future__ import annotations

from dataclasses import dataclass

from firstline.domain.action import ActionType


@dataclass(frozen=True)
class Resource:
    group: str  # "" is the core group
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None, name: str | None = None) -> str:
        """The object's URL path, as `kubectl get --raw` takes it."""
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        scope = f"/namespaces/{namespace}" if self.namespaced and namespace else ""
        return f"{prefix}{scope}/{self.plural}" + (f"/{name}" if name else "")


DEPLOYMENT = Resource("apps", "v1", "deployments", "Deployment")
STATEFULSET = Resource("apps", "v1", "statefulsets", "StatefulSet")
DAEMONSET = Resource("apps", "v1", "daemonsets", "DaemonSet")
REPLICASET = Resource("apps", "v1", "replicasets", "ReplicaSet")
POD = Resource("", "v1", "pods", "Pod")
NODE = Resource("", "v1", "nodes", "Node", namespaced=False)
SECRET = Resource("", "v1", "secrets", "Secret")
CERTIFICATE = Resource("cert-manager.io", "v1", "certificates", "Certificate")

TARGET_KINDS: dict[str, Resource] = {
    "deployment": DEPLOYMENT,
    "statefulset": STATEFULSET,
    "daemonset": DAEMONSET,
    "pod": POD,
    "node": NODE,
    "certificate": CERTIFICATE,
}
"""Target.kind (lower case) to the resource it names."""

WORKLOADS = frozenset({"deployment", "statefulset", "daemonset"})

ACTION_KINDS: dict[ActionType, frozenset[str]] = {
    ActionType.RESTART: WORKLOADS,
    ActionType.SCALE: frozenset({"deployment", "statefulset"}),
    ActionType.ROLLBACK: frozenset({"deployment"}),
    ActionType.DELETE_POD: frozenset({"pod"}),
    ActionType.RAISE_RESOURCE_LIMIT: WORKLOADS,
    ActionType.PAUSE_ROLLOUT: frozenset({"deployment"}),
    ActionType.RESUME_ROLLOUT: frozenset({"deployment"}),
    ActionType.CORDON_NODE: frozenset({"node"}),
    ActionType.ROTATE_CERTIFICATE: frozenset({"certificate"}),
}
"""Which target kinds an action may touch; anything else is refused."""

ACTION_PARAMETERS: dict[ActionType, frozenset[str]] = {
    ActionType.RESTART: frozenset(),
    ActionType.SCALE: frozenset({"replicas"}),
    ActionType.ROLLBACK: frozenset({"to_revision"}),
    ActionType.DELETE_POD: frozenset(),
    ActionType.RAISE_RESOURCE_LIMIT: frozenset(
        {"container", "resource", "limit", "factor", "restore"}
    ),
    ActionType.PAUSE_ROLLOUT: frozenset(),
    ActionType.RESUME_ROLLOUT: frozenset(),
    ActionType.CORDON_NODE: frozenset({"uncordon"}),
    ActionType.ROTATE_CERTIFICATE: frozenset(),
}
"""The only parameters each action reads. Any other (a `namespace`, a `name`...) is refused:
where an action acts comes from its Target alone."""
