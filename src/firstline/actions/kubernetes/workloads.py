"""Planners for changes to a workload's spec: restart, scale, pause/resume, raise a limit."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from firstline.actions.kubernetes.plan import (
    Plan,
    PlanContext,
    bool_parameter,
    int_parameter,
    refuse,
    undo_action,
)
from firstline.actions.kubernetes.quantities import format_cpu, format_memory, parse_quantity
from firstline.domain.action import ActionType

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def plan_restart(ctx: PlanContext) -> Plan:
    """What `kubectl rollout restart` does: a new pod-template annotation, hence new pods."""
    if _spec(ctx.live).get("paused"):
        return refuse(ctx, "the rollout is paused: a restart would not roll out; resume it first")
    after = copy.deepcopy(ctx.live)
    template = after.setdefault("spec", {}).setdefault("template", {})
    stamp = ctx.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    template.setdefault("metadata", {}).setdefault("annotations", {})[RESTARTED_AT] = stamp
    return Plan(
        before=ctx.live,
        after=after,
        summary=f"rolling restart (restartedAt={stamp})",
        report={"restarted_at": stamp},
    )


def plan_scale(ctx: PlanContext) -> Plan:
    settings = ctx.settings
    try:
        wanted = int_parameter(ctx, "replicas")
    except ValueError as exc:
        return refuse(ctx, str(exc))
    if wanted is None:
        return refuse(ctx, "parameter replicas is required")
    current = int(_spec(ctx.live).get("replicas", 1))
    problems = []
    if wanted < settings.min_replicas:
        problems.append(f"{wanted} replicas is below the minimum of {settings.min_replicas}")
    if wanted > settings.max_replicas:
        problems.append(f"{wanted} replicas is above the maximum of {settings.max_replicas}")
    if current > 0 and wanted > current * settings.max_scale_factor:
        problems.append(
            f"{current} -> {wanted} replicas exceeds the maximum scale factor "
            f"{settings.max_scale_factor:g}"
        )
    if problems:
        return refuse(ctx, *problems)
    after = copy.deepcopy(ctx.live)
    after.setdefault("spec", {})["replicas"] = wanted
    return Plan(
        before=ctx.live,
        after=after,
        summary=f"replicas {current} -> {wanted}",
        undo=undo_action(ctx, ActionType.SCALE, {"replicas": current}),
        report={"replicas_before": current, "replicas_after": wanted},
    )


def plan_pause(ctx: PlanContext, paused: bool) -> Plan:
    after = copy.deepcopy(ctx.live)
    after.setdefault("spec", {})["paused"] = paused
    before = bool(_spec(ctx.live).get("paused"))
    plan = Plan(
        before=ctx.live,
        after=after,
        summary=f"spec.paused {str(before).lower()} -> {str(paused).lower()}",
        undo=undo_action(ctx, ActionType.RESUME_ROLLOUT if paused else ActionType.PAUSE_ROLLOUT),
        report={"paused": paused},
    )
    if before == paused:  # absent and false are the same state; do not write a no-op
        plan.after = copy.deepcopy(ctx.live)
    return plan


def _container(ctx: PlanContext, containers: list[Any]) -> tuple[dict[str, Any] | None, str]:
    wanted = ctx.action.parameters.get("container")
    named = [c for c in containers if isinstance(c, dict)]
    if wanted is None:
        if len(named) == 1:
            return named[0], str(named[0].get("name"))
        return None, "parameter container is required (the workload has several containers)"
    for container in named:
        if container.get("name") == wanted:
            return container, str(wanted)
    return None, f"no container named {wanted!r} in {ctx.action.target}"


def _new_limit(ctx: PlanContext, current: Decimal, resource: str) -> Decimal | str:
    """The wanted limit, or the reason there is none."""
    limit = ctx.action.parameters.get("limit")
    factor = ctx.action.parameters.get("factor")
    if (limit is None) == (factor is None):
        return "give exactly one of the parameters limit or factor"
    try:
        if limit is not None:
            return parse_quantity(str(limit))
        if isinstance(factor, bool) or not isinstance(factor, int | float | str):
            return f"factor must be a number, got {factor!r}"
        return current * Decimal(str(factor))
    except (ValueError, ArithmeticError):
        return f"not a {resource} quantity: {limit if limit is not None else factor!r}"


def plan_raise_limit(ctx: PlanContext) -> Plan:
    """Raise one container's memory or CPU limit, within the configured ceiling."""
    resource = ctx.action.parameters.get("resource")
    if resource not in ("memory", "cpu"):
        return refuse(ctx, f"parameter resource must be memory or cpu, got {resource!r}")
    after = copy.deepcopy(ctx.live)
    pod_spec = after.get("spec", {}).get("template", {}).get("spec", {})
    container, name = _container(ctx, pod_spec.get("containers") or [])
    if container is None:
        return refuse(ctx, name)
    limits = container.setdefault("resources", {}).setdefault("limits", {})
    if resource not in limits:
        return refuse(ctx, f"container {name} has no {resource} limit; setting one would lower it")
    current = parse_quantity(str(limits[resource]))
    wanted = _new_limit(ctx, current, str(resource))
    if isinstance(wanted, str):
        return refuse(ctx, wanted)
    settings = ctx.settings
    ceiling_text = settings.memory_ceiling if resource == "memory" else settings.cpu_ceiling
    restore = bool_parameter(ctx, "restore")
    problems = []
    if wanted < current and not restore:
        problems.append(f"{limits[resource]} -> {wanted} would lower the {resource} limit")
    if wanted > parse_quantity(ceiling_text):
        problems.append(f"{resource} limit above the ceiling of {ceiling_text}")
    if not restore and wanted > current * Decimal(str(settings.max_limit_factor)):
        problems.append(f"more than {settings.max_limit_factor:g} times the current limit")
    if problems:
        return refuse(ctx, *problems)
    old_text = str(limits[resource])
    given = ctx.action.parameters.get("limit")
    text = (
        str(given)
        if given is not None
        else (format_memory(wanted) if resource == "memory" else format_cpu(wanted))
    )
    if parse_quantity(text) != current:
        limits[resource] = text
    return Plan(
        before=ctx.live,
        after=after,
        summary=f"set container {name} {resource} limit {old_text} -> {text}",
        undo=undo_action(
            ctx,
            ActionType.RAISE_RESOURCE_LIMIT,
            {"container": name, "resource": str(resource), "limit": old_text, "restore": True},
        ),
        report={"container": name, "resource": str(resource), "before": old_text, "after": text},
    )
