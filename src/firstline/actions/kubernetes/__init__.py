"""Kubernetes remediation: the KubernetesExecutor, its settings and its RBAC manifests."""

from firstline.actions.kubernetes.executor import KubernetesExecutor
from firstline.actions.kubernetes.rbac import rbac_manifests, required_permissions
from firstline.actions.kubernetes.settings import KubernetesActionSettings, RbacCheck

__all__ = [
    "KubernetesActionSettings",
    "KubernetesExecutor",
    "RbacCheck",
    "rbac_manifests",
    "required_permissions",
]
