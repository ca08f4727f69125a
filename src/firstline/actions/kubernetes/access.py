"""Preflight's RBAC check: ask the API server whether firstline's own identity may make
each request an action needs (SelfSubjectAccessReview, authorization.k8s.io/v1).

A server (or stand-in) that does not serve the review, or answers without a verdict, is
"could not verify". Under `rbac_check: strict` that refuses the action; under
`best_effort` it is a logged note and the action goes on, since the API server still
enforces RBAC on the real request. An explicit "denied" refuses in both modes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import structlog

from firstline.actions.kubernetes.api import KubernetesApi
from firstline.actions.kubernetes.errors import KubernetesActionError
from firstline.actions.kubernetes.rbac import required_permissions
from firstline.actions.kubernetes.settings import RbacCheck
from firstline.domain.action import RemediationAction

log = structlog.get_logger(__name__)
# Statuses meaning "this server does not offer the review", not "the review failed". 409 is
# what an emulator that stores every POSTed object answers to the second review.
_UNSUPPORTED = frozenset({404, 405, 409, 415, 501})


@dataclass
class AccessVerdict:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


async def check_access(
    api: KubernetesApi,
    action: RemediationAction,
    mode: RbacCheck,
    *,
    certificate_secrets: tuple[str, ...] = (),
    names: Mapping[str, str] | None = None,
) -> AccessVerdict:
    """`names`: the object a permission not on the target asks for, by resource (the TLS
    Secret of a renewal), so a grant limited by `resourceNames` is checked for that name."""
    verdict = AccessVerdict()
    target = action.target
    others = names or {}
    permissions = required_permissions(
        action.type, target.kind.lower(), certificate_secrets=certificate_secrets
    )
    for permission in permissions:
        name = target.name if permission.on_target else others.get(permission.resource)
        what = (
            f"{permission.verb} {permission.resource}"
            + (f" {name}" if name and not permission.on_target else "")
            + (f" in {target.namespace}" if permission.namespaced and target.namespace else "")
        )
        try:
            status = await api.may(permission, target.namespace, name)
        except KubernetesActionError as exc:
            if exc.status not in _UNSUPPORTED:
                verdict.problems.append(f"RBAC check for {what} failed: {exc}")
                continue
            status = {}
        if "allowed" not in status:
            note = f"could not verify RBAC for {what}: SelfSubjectAccessReview not answered"
            if mode is RbacCheck.STRICT:
                verdict.problems.append(f"{note} (rbac_check is strict)")
            else:
                verdict.notes.append(note)
                log.warning("kubernetes_rbac_unverified", permission=what, action=action.describe())
            continue
        if not status.get("allowed") or status.get("denied"):
            reason = status.get("reason") or "no rule grants it"
            verdict.problems.append(f"RBAC: firstline may not {what} ({reason})")
    return verdict
