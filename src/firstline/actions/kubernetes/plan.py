"""A plan: what one action would do to one live object, computed without touching anything.

Planners are pure functions of the live object (and, for a rollback, its ReplicaSets), so
preflight, dry-run, execute and reconcile all reason from the same computation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from firstline.actions.catalog import make_action
from firstline.actions.kubernetes.diff import comparable
from firstline.actions.kubernetes.resources import Resource
from firstline.actions.kubernetes.settings import KubernetesActionSettings
from firstline.domain.action import ActionType, ParamValue, RemediationAction

Obj = dict[str, Any]
ACTION_KEY_ANNOTATION = "firstline.io/action-key"


@dataclass(frozen=True)
class PlanContext:
    action: RemediationAction
    resource: Resource
    live: Obj
    settings: KubernetesActionSettings
    now: datetime
    key: str | None = None
    """The idempotency key at execution; None for preflight and dry-run."""
    replicasets: tuple[Obj, ...] = ()


@dataclass
class Plan:
    before: Obj
    after: Obj | None
    """The object after the action; None when the action deletes it."""
    summary: str
    problems: list[str] = field(default_factory=list)
    undo: RemediationAction | None = None
    report: dict[str, ParamValue | list[str]] = field(default_factory=dict)
    status_subresource: bool = False
    view: Callable[[Obj], Obj] = comparable
    """The part of the object a person reviews in the diff."""

    @property
    def no_change(self) -> bool:
        return self.after is not None and self.view(self.before) == self.view(self.after)


def refuse(ctx: PlanContext, *problems: str) -> Plan:
    return Plan(before=ctx.live, after=copy.deepcopy(ctx.live), summary="", problems=list(problems))


def annotations_of(obj: Obj) -> dict[str, str]:
    found = (obj.get("metadata") or {}).get("annotations") or {}
    return found if isinstance(found, dict) else {}


def stamp(obj: Obj, key: str) -> Obj:
    """The object with the action key in its metadata: one write carries both the change and
    the proof of who made it, so reconcile can read it back after a crash."""
    stamped = copy.deepcopy(obj)
    stamped.setdefault("metadata", {}).setdefault("annotations", {})[ACTION_KEY_ANNOTATION] = key
    return stamped


def undo_action(
    ctx: PlanContext, action_type: ActionType, parameters: dict[str, ParamValue] | None = None
) -> RemediationAction:
    return make_action(
        action_type,
        ctx.action.target,
        rationale=f"undo of: {ctx.action.describe()}",
        parameters=parameters,
    )


def int_parameter(ctx: PlanContext, name: str) -> int | None:
    """An integer parameter; raises ValueError with the reason when malformed."""
    value = ctx.action.parameters.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"parameter {name} must be a whole number, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"parameter {name} must be a whole number, got {value!r}") from None


def bool_parameter(ctx: PlanContext, name: str) -> bool:
    value = ctx.action.parameters.get(name, False)
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1"}
    return bool(value)
