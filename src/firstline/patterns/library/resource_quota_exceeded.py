"""Resource quota exceeded: the API server refuses a workload's new pods because a
ResourceQuota (or a LimitRange) in the namespace does not allow them.

Typical alerts: KubeQuotaExceeded, KubeQuotaFullyUsed, KubeDeploymentReplicasMismatch,
KubeDeploymentRolloutStuck, KubeHpaReplicasMismatch, a Job that never starts. The key
signal is the ReplicaSet (or Job, StatefulSet) controller's FailedCreate event: "Error
creating: pods "x-..." is forbidden: exceeded quota: compute-quota, requested:
limits.memory=2Gi, used: limits.memory=9Gi, limited: limits.memory=10Gi", often with the
Deployment's ReplicaFailure condition True (FailedCreate) and fewer replicas than desired.
LimitRange refusals read "maximum memory usage per Container is 1Gi, but limit is 2Gi", and
a quota on limits refuses pods without them ("must specify limits.memory").

What rules it out: pods that exist but stay Pending with FailedScheduling "Insufficient
cpu" are short of node capacity, not of quota (pod_pending_resources): the quota refuses a
pod before it exists, the scheduler only places pods that do.

What to do: raising a quota or shrinking requests is a budget decision for a person, so the
pattern gives exact steps (describe the quota, find what uses it, raise it or lower the
requests) and never acts itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.domain.signal import Signal
from firstline.patterns.base import Pattern, PatternContext, Scorecard

# kube-apiserver's admission message: lists are "name=quantity" joined by commas
_USAGE = re.compile(
    r"requested: (?P<requested>\S+?), used: (?P<used>\S+?), limited: (?P<limited>\S+)"
)
_QUOTA_NAME = re.compile(r"(?:exceeded|failed) quota: (?P<name>[a-z0-9.-]+)", re.IGNORECASE)
_MUST_SPECIFY = re.compile(r"must specify (?P<resources>[a-z0-9.,/ -]+?)(?:$| for:|[;\"])")
_LIMIT_RANGE = re.compile(
    r"(?P<bound>maximum|minimum) (?P<resource>cpu|memory|ephemeral-storage)[a-z ]*? per "
    r"(?P<per>container|pod) is (?P<value>\S+?), but (?P<what>limit|request) is (?P<asked>\S+)",
    re.IGNORECASE,
)


def _pairs(text: str) -> dict[str, str]:
    found = {}
    for item in text.rstrip(".").split(","):
        key, _, value = item.partition("=")
        if key and value:
            found[key.strip()] = value.strip()
    return found


@dataclass(frozen=True)
class _Refusal:
    """What the first quota refusal says."""

    signal: Signal
    quota: str
    resource: str
    detail: str
    limit_range: bool


def _refusal(signal: Signal) -> _Refusal:
    message = signal.attributes.get("message") or signal.summary
    name = _QUOTA_NAME.search(message)
    quota = signal.attributes.get("quota") or (name.group("name") if name else "")
    if usage := _USAGE.search(message):
        requested = _pairs(usage.group("requested"))
        used = _pairs(usage.group("used"))
        limited = _pairs(usage.group("limited"))
        # the resource that overflows: requested + used beyond limited, else the first named
        resource = next(iter(limited), next(iter(requested), ""))
        detail = (
            f"requested {requested.get(resource, '?')} of {resource} with "
            f"{used.get(resource, '?')} of {limited.get(resource, '?')} already used"
        )
        return _Refusal(signal, quota, resource, detail, False)
    if bounded := _LIMIT_RANGE.search(message):
        resource = bounded.group("resource").lower()
        detail = (
            f"the LimitRange allows a {bounded.group('bound').lower()} of "
            f"{bounded.group('value')} {resource} per {bounded.group('per').lower()}, the pod "
            f"asks for {bounded.group('asked')}"
        )
        return _Refusal(signal, quota, resource, detail, True)
    if must := _MUST_SPECIFY.search(message):
        resource = must.group("resources").strip().rstrip(",")
        detail = f"the quota requires every container to set {resource}"
        return _Refusal(signal, quota, resource, detail, False)
    return _Refusal(signal, quota, "", "", signal.attributes.get("limit_range") == "yes")


_HASHED = re.compile(r"^(?P<name>[a-z0-9.-]+?)-[a-z0-9]{6,10}$")


def _refused(signal: Signal) -> tuple[str, str]:
    """The workload (kind, name) whose pods the refusal is about."""
    kind, _, name = signal.subject.partition("/")
    if kind == "replicaset" and (match := _HASHED.match(name)):
        return "deployment", match.group("name")
    return kind or "deployment", name


def _workload(ctx: PatternContext) -> tuple[str, str]:
    """The alerting workload; for a namespace-level quota alert, the first one refused."""
    refusals = ctx.signals.of("quota_exceeded")
    if name := ctx.workload():
        return (ctx.scope.kind or "Deployment").lower(), name
    if refusals:
        return _refused(refusals[0])
    return "deployment", "the workload"


class ResourceQuotaExceeded(Pattern):
    id = "resource_quota_exceeded"
    title = "Pods refused by a ResourceQuota or LimitRange"
    default_severity = Severity.MEDIUM
    alert_names = (
        r"KubeQuota(Exceeded|FullyUsed|AlmostFull)",
        r".*Quota.*(Exceeded|Full).*",
        r"KubeDeploymentReplicasMismatch",
        r"KubeStatefulSetReplicasMismatch",
        r"KubeDeploymentRolloutStuck",
        r"KubeHpaReplicasMismatch",
    )
    reads = ("events", "deployments")
    symptom_is_current = True
    confirm_with = (
        "kubectl -n <namespace> describe resourcequota: used versus hard for the named resource",
        "kubectl -n <namespace> get events --field-selector reason=FailedCreate: the "
        "controller's 'is forbidden: exceeded quota' messages",
        "kubectl -n <namespace> describe limitrange, when the message names a maximum per "
        "container or pod",
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        sig = ctx.signals
        _, component = _workload(ctx)
        refusals = sig.of("quota_exceeded")
        events = [s for s in refusals if s.ref == "events"]
        conditions = [s for s in refusals if s.ref == "deployments"]
        first = _refusal((events or conditions)[0]) if refusals else None
        if first is not None:
            card.add(True, 3.5, f"creation refused: {first.signal.summary}", first.signal.ref)
        card.add(
            bool(events) and bool(conditions),
            0.7,
            f"{conditions[0].summary}" if conditions else "",
            "deployments",
        )
        card.add(
            sum(s.count for s in events) >= 3,
            0.3,
            f"the controller retried {sum(s.count for s in events)} times and was refused "
            "each time",
            "events",
        )
        short = sig.of("replicas_unavailable")
        card.add(
            bool(refusals) and bool(short),
            0.3,
            short[0].summary if short else "",
            "deployments",
        )
        capacity = [
            s
            for s in sig.of("unschedulable")
            if any(k.startswith("insufficient_") for k in s.attributes)
        ]
        card.add(
            bool(capacity) and not refusals,
            -1.0,
            f"pods exist but no node has room for them ({capacity[0].summary}): node "
            "capacity, not quota"
            if capacity
            else "",
            "events",
        )
        card.add(not refusals, -2.5, f"no quota or LimitRange refused {component}'s pods")
        if first is None:
            cause = f"{component}'s pods are refused by a ResourceQuota"
        elif first.limit_range:
            cause = f"{component}'s pods are refused by the namespace's LimitRange" + (
                f" on {first.resource}: {first.detail}" if first.detail else ""
            )
        else:
            quota = f"ResourceQuota {first.quota}" if first.quota else "a ResourceQuota"
            cause = f"{component}'s new pods are refused by {quota}" + (
                f" on {first.resource}: {first.detail}" if first.resource else ""
            )
        return card, cause, [component]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        ns = ctx.namespace or "<namespace>"
        name = components[0]
        refusals = ctx.signals.of("quota_exceeded")
        first = _refusal(refusals[0]) if refusals else None
        resource = (first.resource if first else "") or "cpu/memory"
        if first is not None and first.limit_range:
            look = f"kubectl -n {ns} describe limitrange"
        else:
            quota = first.quota if first and first.quota else ""
            look = f"kubectl -n {ns} describe resourcequota {quota}".rstrip()
        kind, _ = _workload(ctx)
        steps = [
            f"{look}: compare Used with Hard for {resource}",
            f"kubectl -n {ns} get events --field-selector reason=FailedCreate "
            "--sort-by=.lastTimestamp: confirm which quota and resource refuse the pods",
            f"kubectl -n {ns} get pods -o custom-columns=NAME:.metadata.name,"
            "PHASE:.status.phase,REQ:.spec.containers[*].resources.requests,"
            "LIM:.spec.containers[*].resources.limits: find what consumes the quota "
            "(finished or stuck pods, an oversized workload)",
            f"either raise the quota's {resource} (a budget decision, through whoever owns "
            f"namespace {ns}), or lower {name}'s {resource} to what it really uses, or free "
            "room by removing what should not be running",
            f"kubectl -n {ns} get {kind} {name} -w: the controller creates the missing pods "
            "by itself once the quota allows them",
        ]
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                Target(kind=kind, name=name, namespace=ctx.namespace),
                rationale=(
                    "a quota is a budget someone set on purpose; raising it or shrinking "
                    "requests is their decision, and restarting or scaling only asks for "
                    "more of what is refused"
                ),
                steps=steps,
            )
        ]


PATTERN = ResourceQuotaExceeded()
