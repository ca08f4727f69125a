"""Whether one action may run now: the guard rails of the policy file, as pure checks.

Called twice: when the decision is taken (a refusal turns the decision into an escalation
with the reason) and again immediately before execution (the world may have changed in
between: a freeze began, the kill switch was thrown, another incident used up a rate
limit). Every refusal names the rule that refused, e.g. `deny[2]: restart in kube-system`.

Order, first refusal wins: kill switch, target guard (names, then namespace), freeze
windows, deny rules, allow rules, blast radius, rate limits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Alert, Severity
from firstline.domain.decision import Decision, Outcome
from firstline.policy.schema import Policy

KILL_SWITCH_ENV = "FIRSTLINE_KILL_SWITCH"
KILL_SWITCH_FILE_ENV = "FIRSTLINE_KILL_SWITCH_FILE"
_TRUE = {"1", "true", "yes", "on"}

# Object names as Kubernetes, databases and caches spell them. Anything else (a slash, a
# space, a glob, a path) is how a crafted alert label smuggles in another target.
_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$")
_NAMESPACE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_KIND = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class PastAction:
    """One ledger entry, as the rate limits see it."""

    key: str
    incident_id: str
    type: ActionType
    target: Target
    started_at: datetime


@dataclass(frozen=True)
class ActionContext:
    alert: Alert
    severity: Severity
    now: datetime
    history: Sequence[PastAction] = ()
    """Actions started within the longest rate-limit window, every incident."""
    incident_actions: int = 0
    """Actions already recorded for this incident (for blast_radius)."""
    environ: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Refusal:
    rule: str
    reason: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.reason}"


def kill_switch(policy: Policy, environ: Mapping[str, str]) -> Refusal | None:
    if policy.kill_switch:
        return Refusal("kill_switch", "the policy's kill_switch is on: no action executes")
    if environ.get(KILL_SWITCH_ENV, "").strip().lower() in _TRUE:
        return Refusal("kill_switch", f"{KILL_SWITCH_ENV} is set: no action executes")
    for path in (policy.kill_switch_file, environ.get(KILL_SWITCH_FILE_ENV)):
        if path and Path(path).exists():
            return Refusal("kill_switch", f"{path} exists: no action executes")
    return None


def longest_window(policy: Policy) -> timedelta:
    limits = (*policy.rate_limits.per_target, *policy.rate_limits.global_)
    return max((limit.span for limit in limits), default=timedelta(0))


def check_action(action: RemediationAction, ctx: ActionContext, policy: Policy) -> Refusal | None:
    return (
        kill_switch(policy, ctx.environ)
        or _target_names(action.target)
        or _freeze(ctx, policy)
        or _rules(action, ctx, policy)
        or _blast_radius(action, ctx, policy)
        or _rate_limits(action, ctx, policy)
    )


def check_actions(
    actions: Sequence[RemediationAction], ctx: ActionContext, policy: Policy
) -> list[tuple[RemediationAction, Refusal]]:
    """Check a decision's actions in order; each planned one counts towards the limits of
    the ones after it, as it will once executed."""
    refused: list[tuple[RemediationAction, Refusal]] = []
    for i, action in enumerate(actions):
        refusal = check_action(action, ctx, policy)
        if refusal is not None:
            refused.append((action, refusal))
            continue
        planned = PastAction(f"planned-{i}", "", action.type, action.target, ctx.now)
        ctx = replace(
            ctx, history=[*ctx.history, planned], incident_actions=ctx.incident_actions + 1
        )
    return refused


def _target_names(target: Target) -> Refusal | None:
    if not _KIND.match(target.kind):
        return Refusal("target_guard.name", f"target kind {target.kind!r} is not a valid kind")
    if not _NAME.match(target.name):
        return Refusal(
            "target_guard.name", f"target name {target.name!r} is not a single object name"
        )
    if target.namespace is not None and not _NAMESPACE.match(target.namespace):
        return Refusal(
            "target_guard.name", f"target namespace {target.namespace!r} is not a valid namespace"
        )
    return None


def _freeze(ctx: ActionContext, policy: Policy) -> Refusal | None:
    for i, window in enumerate(policy.freeze_windows):
        if window.contains(ctx.now):
            return Refusal(f"freeze[{i}]", f"{window.describe()}: no automated action")
    return None


def _is_cross_namespace(target: Target, alert: Alert) -> bool:
    return target.namespace is not None and target.namespace != alert.namespace


def _rules(action: RemediationAction, ctx: ActionContext, policy: Policy) -> Refusal | None:
    """Deny wins; then an allow rule must match. No `actions` section: everything in the
    catalog is allowed, in any namespace (today's behaviour, see docs/policy.md)."""
    rules = policy.actions
    if rules is None:
        return None
    for i, rule in enumerate(rules.deny):
        if rule.matches(action.type, action.target, ctx.severity):
            return Refusal(f"deny[{i}]", rule.describe())
    allowing = [r for r in rules.allow if r.matches(action.type, action.target, ctx.severity)]
    if not allowing:
        return Refusal(
            "allow",
            f"no allow rule matches {action.type.value} {action.target} at {ctx.severity.value}",
        )
    if _is_cross_namespace(action.target, ctx.alert) and not any(
        r.cross_namespace for r in allowing
    ):
        return Refusal(
            "target_guard.namespace",
            f"{action.type.value} {action.target} is outside the alert's namespace "
            f"{ctx.alert.namespace or '(none)'} and no allow rule permits cross_namespace",
        )
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _blast_radius(action: RemediationAction, ctx: ActionContext, policy: Policy) -> Refusal | None:
    limits = policy.blast_radius
    most = limits.max_actions_per_incident
    if most is not None and ctx.incident_actions >= most:
        return Refusal(
            "blast_radius.max_actions_per_incident",
            f"{ctx.incident_actions} action(s) already recorded for this incident (max {most})",
        )
    if action.type is not ActionType.SCALE:
        return None
    replicas = _number(action.parameters.get("replicas"))
    if limits.max_replicas is not None and (replicas is None or replicas > limits.max_replicas):
        shown = "an unknown count" if replicas is None else f"{replicas:g}"
        return Refusal(
            "blast_radius.max_replicas",
            f"scale {action.target} to {shown} replicas (max {limits.max_replicas})",
        )
    factor_max = limits.max_scale_factor
    if factor_max is None:
        return None
    current = _number(action.parameters.get("from_replicas"))
    if replicas is None or current is None:
        return Refusal(
            "blast_radius.max_scale_factor",
            f"scale {action.target}: the current or wanted replica count is unknown",
        )
    # symmetric: scaling 10 -> 1 is as big a change as 1 -> 10
    factor = max(replicas, 1.0) / max(current, 1.0)
    factor = max(factor, 1 / factor)
    if factor > factor_max:
        return Refusal(
            "blast_radius.max_scale_factor",
            f"scale {action.target} from {current:g} to {replicas:g} is a factor of "
            f"{factor:.2g} (max {factor_max:g})",
        )
    return None


def _rate_limits(action: RemediationAction, ctx: ActionContext, policy: Policy) -> Refusal | None:
    limits = policy.rate_limits
    for i, limit in enumerate(limits.per_target):
        if not limit.counts(action.type):
            continue
        since = ctx.now - limit.span
        done = [
            p
            for p in ctx.history
            if p.started_at >= since and p.target == action.target and limit.counts(p.type)
        ]
        if len(done) >= limit.max:
            return Refusal(
                f"rate_limit.per_target[{i}]",
                f"{len(done)} {_kinds(limit.types)} of {action.target} in {limit.window}"
                f" (max {limit.max})",
            )
    for i, limit in enumerate(limits.global_):
        if not limit.counts(action.type):
            continue
        since = ctx.now - limit.span
        done = [p for p in ctx.history if p.started_at >= since and limit.counts(p.type)]
        if len(done) >= limit.max:
            return Refusal(
                f"rate_limit.global[{i}]",
                f"{len(done)} {_kinds(limit.types)} in {limit.window} (max {limit.max})",
            )
    return None


def _kinds(types: tuple[str, ...]) -> str:
    return "actions" if "*" in types else "/".join(f"{t}s" for t in types)


def guard_decision(
    decision: Decision, ctx: ActionContext, policy: Policy
) -> tuple[Decision, list[tuple[RemediationAction, Refusal]]]:
    """A decision that would act, with any of its actions refused, becomes an escalation
    that quotes the refusals. Other decisions pass unchanged."""
    if decision.outcome not in (Outcome.AUTO_REMEDIATE, Outcome.REQUEST_APPROVAL):
        return decision, []
    refused = check_actions(decision.actions, ctx, policy)
    if not refused:
        return decision, []
    reasons = "; ".join(f"{action.describe()} refused by {refusal}" for action, refusal in refused)
    escalation = Decision(
        outcome=Outcome.ESCALATE,
        rule="action_policy",
        reason=reasons,
        actions=decision.actions,
        would_have=decision.would_have or decision.outcome,
    )
    return escalation, refused
