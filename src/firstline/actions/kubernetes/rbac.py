"""The API permissions each action needs, and least-privilege RBAC manifests built from them.

One table drives both the preflight's SelfSubjectAccessReviews and the manifests, so what is
checked at run time is exactly what is granted at deploy time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from firstline.actions.kubernetes.resources import (
    ACTION_KINDS,
    CERTIFICATE,
    DEPLOYMENT,
    POD,
    REPLICASET,
    SECRET,
    TARGET_KINDS,
    Resource,
)
from firstline.domain.action import ActionType


@dataclass(frozen=True, order=True)
class Permission:
    group: str
    resource: str  # plural, with "/subresource" when one is used
    verb: str
    namespaced: bool = True
    on_target: bool = True
    """The request names the target object (False: a listing of the namespace)."""


def _on(resource: Resource, *verbs: str, sub: str = "") -> list[Permission]:
    plural = f"{resource.plural}/{sub}" if sub else resource.plural
    return [Permission(resource.group, plural, verb, resource.namespaced) for verb in verbs]


def required_permissions(action_type: ActionType, kind: str) -> list[Permission]:
    """Every (group, resource, verb) the executor uses for this action on this kind."""
    target = TARGET_KINDS[kind]
    if action_type is ActionType.DELETE_POD:
        return _on(POD, "get", "delete")
    if action_type is ActionType.ROLLBACK:
        listing = Permission(REPLICASET.group, REPLICASET.plural, "list", on_target=False)
        return [*_on(DEPLOYMENT, "get", "patch"), listing]
    if action_type is ActionType.ROTATE_CERTIFICATE:
        secret = Permission(SECRET.group, SECRET.plural, "get", on_target=False)
        return [*_on(CERTIFICATE, "get", "patch"), *_on(CERTIFICATE, "patch", sub="status"), secret]
    return _on(target, "get", "patch")


def all_permissions(actions: Iterable[ActionType | str]) -> list[Permission]:
    found = {
        permission
        for action in map(ActionType, actions)
        for kind in ACTION_KINDS[action]
        for permission in required_permissions(action, kind)
    }
    return sorted(found)


def _rules(permissions: Iterable[Permission]) -> list[dict[str, Any]]:
    """One rule per (group, resource), verbs merged and sorted, for a stable manifest."""
    verbs: dict[tuple[str, str], set[str]] = {}
    for p in permissions:
        verbs.setdefault((p.group, p.resource), set()).add(p.verb)
    return [
        {"apiGroups": [group], "resources": [resource], "verbs": sorted(granted)}
        for (group, resource), granted in sorted(verbs.items())
    ]


def _subject(service_account: str, namespace: str) -> list[dict[str, str]]:
    return [{"kind": "ServiceAccount", "name": service_account, "namespace": namespace}]


def _binding(kind: str, name: str, namespace: str | None, subjects: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    role_kind = "Role" if kind == "RoleBinding" else "ClusterRole"
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
        "subjects": subjects,
    }


def _role(kind: str, name: str, namespace: str | None, rules: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {"app.kubernetes.io/name": "firstline"}}
    if namespace is not None:
        meta["namespace"] = namespace
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": meta,
        "rules": rules,
    }


def rbac_manifests(
    enabled_actions: Iterable[ActionType | str],
    namespaces: Iterable[str] = (),
    *,
    service_account: str = "firstline",
    service_account_namespace: str = "firstline",
    name: str = "firstline-remediation",
) -> list[dict[str, Any]]:
    """Roles and bindings granting exactly what the enabled actions use.

    With `namespaces`, namespaced permissions go into one Role + RoleBinding per namespace
    and only cluster-scoped ones (nodes) into a ClusterRole; without, everything goes into
    one ClusterRole. SelfSubjectAccessReview needs no grant: every authenticated identity
    may create one (the built-in system:basic-user role).
    """
    permissions = all_permissions(enabled_actions)
    cluster_wide = [p for p in permissions if not p.namespaced]
    namespaced = [p for p in permissions if p.namespaced]
    subjects = _subject(service_account, service_account_namespace)
    manifests: list[dict[str, Any]] = []
    scoped = sorted(set(namespaces))
    for namespace in scoped if namespaced else []:
        manifests.append(_role("Role", name, namespace, _rules(namespaced)))
        manifests.append(_binding("RoleBinding", name, namespace, subjects))
    cluster_rules = _rules(cluster_wide if scoped else permissions)
    if cluster_rules:
        manifests.append(_role("ClusterRole", name, None, cluster_rules))
        manifests.append(_binding("ClusterRoleBinding", name, None, subjects))
    return manifests
