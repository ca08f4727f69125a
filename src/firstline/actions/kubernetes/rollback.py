"""Roll a Deployment back the way `kubectl rollout undo` does: find the ReplicaSets it
controls, take the pod template of the wanted revision (by default the one before the
current), drop the pod-template-hash label, and write it into the Deployment."""

from __future__ import annotations

import copy
from typing import Any

from firstline.actions.kubernetes.plan import (
    Plan,
    PlanContext,
    annotations_of,
    int_parameter,
    refuse,
    undo_action,
)
from firstline.domain.action import ActionType

REVISION = "deployment.kubernetes.io/revision"
TEMPLATE_HASH = "pod-template-hash"
# Annotations kubectl does not copy from the ReplicaSet back to the Deployment: they are the
# controller's own bookkeeping, not part of what the revision was.
_NOT_COPIED = frozenset(
    {
        REVISION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "kubectl.kubernetes.io/last-applied-configuration",
    }
)


def _controlled_by(rs: dict[str, Any], deployment: dict[str, Any]) -> bool:
    meta = deployment.get("metadata") or {}
    for ref in (rs.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("kind") != "Deployment" or not ref.get("controller"):
            continue
        if meta.get("uid") and ref.get("uid"):
            if ref["uid"] == meta["uid"]:
                return True
        elif ref.get("name") == meta.get("name"):
            return True
    return False


def _revision(obj: dict[str, Any]) -> int | None:
    try:
        return int(annotations_of(obj).get(REVISION, ""))
    except ValueError:
        return None


def without_hash(template: dict[str, Any]) -> dict[str, Any]:
    cleaned = copy.deepcopy(template)
    labels = (cleaned.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(TEMPLATE_HASH, None)
    return cleaned


def revisions(ctx: PlanContext) -> dict[int, dict[str, Any]]:
    """Revision number -> ReplicaSet, for the ReplicaSets this Deployment controls (the
    listing may hold others: a server-side selector is not relied on)."""
    found: dict[int, dict[str, Any]] = {}
    for rs in ctx.replicasets:
        revision = _revision(rs)
        if revision is not None and _controlled_by(rs, ctx.live):
            found[revision] = rs
    return found


def plan_rollback(ctx: PlanContext) -> Plan:
    if (ctx.live.get("spec") or {}).get("paused"):
        return refuse(ctx, "cannot roll back a paused deployment; resume it first")
    history = revisions(ctx)
    if not history:
        return refuse(ctx, "no revision history: the deployment controls no ReplicaSets")
    current = _revision(ctx.live) or max(history)
    try:
        wanted = int_parameter(ctx, "to_revision")
    except ValueError as exc:
        return refuse(ctx, str(exc))
    if wanted is None:
        older = [r for r in history if r != current]
        if not older:
            return refuse(ctx, f"no revision before the current one ({current}) to roll back to")
        wanted = max(older)
    if wanted not in history:
        return refuse(ctx, f"revision {wanted} not found (known: {sorted(history)})")
    rs = history[wanted]
    after = copy.deepcopy(ctx.live)
    after.setdefault("spec", {})["template"] = without_hash(rs.get("spec", {}).get("template", {}))
    copied = {k: v for k, v in annotations_of(rs).items() if k not in _NOT_COPIED}
    if copied:
        after.setdefault("metadata", {}).setdefault("annotations", {}).update(copied)
    return Plan(
        before=ctx.live,
        after=after,
        summary=f"roll back from revision {current} to revision {wanted} "
        f"(ReplicaSet {rs['metadata']['name']})",
        undo=undo_action(ctx, ActionType.ROLLBACK, {"to_revision": current}),
        report={
            "from_revision": current,
            "to_revision": wanted,
            "replicaset": str(rs["metadata"]["name"]),
        },
    )
