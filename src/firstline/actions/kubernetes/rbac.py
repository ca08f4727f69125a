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
    """The request names the target object (False: another object, or a listing)."""
    resource_names: tuple[str, ...] = ()
    """The only objects it may name (RBAC `resourceNames`); empty: any object."""


def _on(resource: Resource, *verbs: str, sub: str = "") -> list[Permission]:
    plural = f"{resource.plural}/{sub}" if sub else resource.plural
    return [Permission(resource.group, plural, verb, resource.namespaced) for verb in verbs]


def required_permissions(
    action_type: ActionType, kind: str, *, certificate_secrets: Iterable[str] = ()
) -> list[Permission]:
    """Every (group, resource, verb) the executor uses for this action on this kind.

    Certificate renewal reads the TLS Secret its Certificate names, and only the Secrets
    in `certificate_secrets` (settings: `actions.kubernetes.certificate_secrets`): `get`
    limited to those names, or no Secret access at all when none is named.
    """
    target = TARGET_KINDS[kind]
    if action_type is ActionType.DELETE_POD:
        return _on(POD, "get", "delete")
    if action_type is ActionType.ROLLBACK:
        listing = Permission(REPLICASET.group, REPLICASET.plural, "list", on_target=False)
        return [*_on(DEPLOYMENT, "get", "patch"), listing]
    if action_type is ActionType.ROTATE_CERTIFICATE:
        certificate = [*_on(CERTIFICATE, "get", "patch"), *_on(CERTIFICATE, "patch", sub="status")]
        names = tuple(sorted(set(certificate_secrets)))
        if not names:
            return certificate
        secret = Permission(
            SECRET.group, SECRET.plural, "get", on_target=False, resource_names=names
        )
        return [*certificate, secret]
    return _on(target, "get", "patch")


def all_permissions(
    actions: Iterable[ActionType | str], *, certificate_secrets: Iterable[str] = ()
) -> list[Permission]:
    secrets = tuple(certificate_secrets)
    found = {
        permission
        for action in map(ActionType, actions)
        for kind in ACTION_KINDS[action]
        for permission in required_permissions(action, kind, certificate_secrets=secrets)
    }
    return sorted(found)


def _rules(permissions: Iterable[Permission]) -> list[dict[str, Any]]:
    """One rule per (group, resource, resourceNames), verbs merged and sorted, for a stable
    manifest; `resourceNames` only where the permission is limited to named objects."""
    verbs: dict[tuple[str, str, tuple[str, ...]], set[str]] = {}
    for p in permissions:
        verbs.setdefault((p.group, p.resource, p.resource_names), set()).add(p.verb)
    rules: list[dict[str, Any]] = []
    for (group, resource, names), granted in sorted(verbs.items()):
        rule: dict[str, Any] = {"apiGroups": [group], "resources": [resource]}
        if names:
            rule["resourceNames"] = list(names)
        rule["verbs"] = sorted(granted)
        rules.append(rule)
    return rules


def _subject(service_account: str, namespace: str) -> list[dict[str, str]]:
    return [{"kind": "ServiceAccount", "name": service_account, "namespace": namespace}]


def _binding(kind: str, name: str, namespace: str | None, subjects: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {"app.kubernetes.io/name": "firstline"}}
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
    certificate_secrets: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Roles and bindings granting exactly what the enabled actions use.

    Secrets are granted only by name: `get` on the TLS Secrets in `certificate_secrets`
    (for rotate_certificate), and nothing on Secrets when none is named.

    With `namespaces`, namespaced permissions go into one Role + RoleBinding per namespace
    and only cluster-scoped ones (nodes) into a ClusterRole; without, everything goes into
    one ClusterRole. SelfSubjectAccessReview needs no grant: every authenticated identity
    may create one (the built-in system:basic-user role).
    """
    permissions = all_permissions(enabled_actions, certificate_secrets=certificate_secrets)
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
