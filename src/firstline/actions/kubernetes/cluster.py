"""Planners for deleting one pod and cordoning (or uncordoning) a node."""

from __future__ import annotations

import copy

from firstline.actions.kubernetes.plan import (
    Plan,
    PlanContext,
    bool_parameter,
    refuse,
    undo_action,
)
from firstline.domain.action import ActionType


def plan_delete_pod(ctx: PlanContext) -> Plan:
    meta = ctx.live.get("metadata") or {}
    owners = [r for r in meta.get("ownerReferences") or [] if r.get("controller")]
    if not owners:
        return refuse(ctx, "the pod has no controller: nothing would replace it")
    owner = f"{owners[0].get('kind')}/{owners[0].get('name')}"
    node = str((ctx.live.get("spec") or {}).get("nodeName") or "")
    report: dict[str, str | int | float | bool | list[str]] = {
        "pod": str(meta.get("name")),
        "owner": owner,
        "node": node,
    }
    if meta.get("deletionTimestamp"):  # already going away: deleting again changes nothing
        return Plan(before=ctx.live, after=copy.deepcopy(ctx.live), summary="", report=report)
    return Plan(
        before=ctx.live,
        after=None,
        summary=f"delete pod {meta.get('name')} (on {node or 'no node'}; {owner} replaces it)",
        report=report,
    )


def plan_cordon(ctx: PlanContext) -> Plan:
    uncordon = bool_parameter(ctx, "uncordon")
    wanted = not uncordon
    before = bool((ctx.live.get("spec") or {}).get("unschedulable"))
    after = copy.deepcopy(ctx.live)
    if before != wanted:
        after.setdefault("spec", {})["unschedulable"] = wanted
    verb = "uncordon" if uncordon else "cordon"
    return Plan(
        before=ctx.live,
        after=after,
        summary=f"{verb} node: spec.unschedulable {str(before).lower()} -> {str(wanted).lower()}",
        undo=undo_action(ctx, ActionType.CORDON_NODE, {} if uncordon else {"uncordon": True}),
        report={"unschedulable": wanted},
    )
