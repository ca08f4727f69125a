"""Rollout stuck: a Deployment, StatefulSet or DaemonSet rollout stopped progressing.

Typical alerts: KubeDeploymentRolloutStuck, KubeDaemonSetRolloutStuck,
KubeStatefulSetUpdateNotRolledOut, KubeDeploymentReplicasMismatch. The key signal is the
Deployment's Progressing condition False with reason ProgressDeadlineExceeded (StatefulSets
and DaemonSets have no deadline: fewer updated replicas than desired while the new pods
fail), with fewer updated replicas than desired and the old ReplicaSet's pods still serving.

A stuck rollout is a symptom; what matters is what blocks the new pods, and the pattern
names it: an image that does not pull, a missing ConfigMap/Secret, pods no node has room for,
a quota that refuses them, OOM kills, a crash at startup, a readiness probe that never
passes. When a more specific pattern explains the blocking pods (image_pull_failure,
crash_loop_bad_config for a missing reference or a crash whose logs reject the
configuration, pod_pending_resources, resource_quota_exceeded, oom_kill_loop), this
pattern scores below it on purpose: the stuck rollout is then context, not the finding. It
is the finding when the new revision's pods fail in a way no narrower pattern covers (a
crash, a readiness probe), or when nothing visible blocks them. A rollout that completed
(Progressing True NewReplicaSetAvailable, every replica ready) is not stuck.

What to do: when the new revision's pods are the ones failing, the old ones serve and a
previous revision exists, rolling back to it (medium risk: a person approves) restores the
known-good spec. Otherwise, a person gets the exact commands (rollout status, describe the
new ReplicaSet, rollout history, rollout undo).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.domain.evidence import Deployment, PodState
from firstline.domain.signal import Signal
from firstline.patterns.base import Pattern, PatternContext, Scorecard

_POD_HASH = re.compile(r"^(?P<base>.+)-(?P<hash>[a-z0-9]{6,10})-[a-z0-9]{5}$")
_SCALED_UP = re.compile(r"Scaled up replica set (?P<rs>\S+) to", re.IGNORECASE)

# What blocks the new pods, in the order an SRE reads it: (families, what it does to the
# pods, the narrower pattern that explains it, whether a rollback can undo it).
_BLOCKERS: tuple[tuple[tuple[str, ...], str, str | None, bool], ...] = (
    (("quota_exceeded",), "are refused by a quota", "resource_quota_exceeded", False),
    (("image_pull",), "cannot pull their image", "image_pull_failure", True),
    (("config_error",), "cannot be created from their config", "crash_loop_bad_config", True),
    (("oom_killed",), "are OOM-killed", "oom_kill_loop", True),
    (("unschedulable",), "cannot be scheduled", "pod_pending_resources", False),
    (("start_failed",), "cannot start their process", None, True),
    (("crash_loop", "error_exit"), "crash at startup", None, True),
    (("probe_failed",), "never pass their probes", None, True),
    (("replica_failure",), "cannot be created", None, False),
)


@dataclass(frozen=True)
class _Blocker:
    signal: Signal
    what: str
    explained_by: str | None
    revision_fault: bool


@dataclass(frozen=True)
class _Findings:
    workload: Deployment | None
    stuck: list[Signal]
    completed: bool
    behind: bool
    failing: list[PodState]
    serving: list[PodState]
    new_failing: bool
    blocker: _Blocker | None


def _template_hash(pod: PodState) -> str | None:
    if label := pod.labels.get("pod-template-hash") or pod.labels.get("controller-revision-hash"):
        return label
    match = _POD_HASH.match(pod.name)
    return match.group("hash") if match else None


def _failing(pod: PodState) -> bool:
    return (
        not pod.ready
        or pod.waiting_reason is not None
        or pod.phase in ("Pending", "Failed", "Unknown")
    )


def _workload(ctx: PatternContext) -> Deployment | None:
    names = set(ctx.scope.workloads) | ({ctx.component} if ctx.component else set())
    return next((d for d in ctx.evidence.deployments() if d.name in names), None)


def _blocker(ctx: PatternContext) -> _Blocker | None:
    for families, what, explained_by, revision_fault in _BLOCKERS:
        found = ctx.signals.of(*families)
        if families == ("unschedulable",):
            # only a capacity shortage is pod_pending_resources' to explain
            capacity = [
                s for s in found if any(k.startswith("insufficient_") for k in s.attributes)
            ]
            if capacity:
                return _Blocker(capacity[0], what, explained_by, revision_fault)
            if found:
                return _Blocker(found[0], what, None, revision_fault)
            continue
        if families == ("crash_loop", "error_exit") and found:
            # the application saying its configuration is wrong is crash_loop_bad_config's
            config = ctx.signals.has("missing_config")
            return _Blocker(found[0], what, "crash_loop_bad_config" if config else None, True)
        if families == ("probe_failed",):
            found = [
                s for s in found if s.attributes.get("probe") in ("readiness", "startup")
            ] or found
        if found:
            return _Blocker(found[0], what, explained_by, revision_fault)
    return None


def _new_replicaset(ctx: PatternContext) -> str | None:
    """The ReplicaSet the Deployment controller scaled up last, from its events."""
    events = ctx.evidence.events()
    scaled = [
        (e.last_seen, m.group("rs"))
        for e in (events.events if events else [])
        if e.reason == "ScalingReplicaSet"
        and (m := _SCALED_UP.search(e.message))
        and ctx.scope.names(e.object)
    ]
    return max(scaled)[1] if scaled else None


def _findings(ctx: PatternContext) -> _Findings:
    workload = _workload(ctx)
    stuck = ctx.signals.of("rollout_stuck")
    pods = ctx.scope.select(ctx.evidence.pods()) if not ctx.scope.empty else []
    failing = [p for p in pods if _failing(p)]
    serving = [p for p in pods if not _failing(p)]
    bad = {_template_hash(p) for p in failing}
    good = {_template_hash(p) for p in serving}
    newest = _new_replicaset(ctx)
    new_failing = (
        bool(failing)
        and None not in bad
        and (
            (bool(serving) and not bad & good)
            or (newest is not None and any(p.name.startswith(f"{newest}-") for p in failing))
        )
    )
    completed = False
    behind = False
    if workload is not None:
        progressing = workload.condition("Progressing")
        updated = workload.updated_replicas
        behind = updated is not None and updated < workload.replicas
        completed = (
            progressing is not None
            and progressing.status == "True"
            and progressing.reason == "NewReplicaSetAvailable"
            and workload.ready_replicas >= workload.replicas
            and not behind
        )
    return _Findings(
        workload=workload,
        stuck=stuck,
        completed=completed,
        behind=behind,
        failing=failing,
        serving=serving,
        new_failing=new_failing,
        blocker=_blocker(ctx) if stuck or behind else None,
    )


def _can_roll_back(f: _Findings) -> bool:
    w = f.workload
    return (
        w is not None
        and w.kind == "Deployment"
        and w.previous is not None
        and bool(f.stuck)
        and f.new_failing
        and (f.blocker is None or f.blocker.revision_fault)
    )


class RolloutStuck(Pattern):
    id = "rollout_stuck"
    title = "Rollout not progressing"
    default_severity = Severity.HIGH
    alert_names = (
        r"Kube(Deployment|DaemonSet)RolloutStuck",
        r"KubeStatefulSetUpdateNotRolledOut",
        r"KubeStatefulSetGenerationMismatch",
        r"KubeDeploymentGenerationMismatch",
        r"KubeDeploymentReplicasMismatch",
        r"KubeStatefulSetReplicasMismatch",
        r".*Rollout.*(Stuck|Stalled|Failed).*",
    )
    reads = ("deployments", "pods", "events")
    symptom_is_current = True
    confirm_with = (
        "kubectl rollout status <kind>/<name>: waiting for how many updated replicas",
        "kubectl describe rs <new replicaset> and its pods' events: what keeps the new pods "
        "from becoming ready",
        "kubectl rollout history <kind>/<name>: what the new revision changed",
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        f = _findings(ctx)
        w = f.workload
        component = w.name if w else (ctx.workload() or "the workload")
        kind = w.kind if w else "Deployment"
        if f.stuck:
            card.add(True, 3.0, f.stuck[0].summary, f.stuck[0].ref)
        card.add(
            f.behind,
            0.5,
            f"{w.updated_replicas}/{w.replicas} replicas updated, {w.ready_replicas} ready"
            if w
            else "",
            "deployments",
        )
        card.add(
            not f.stuck and f.behind and kind != "Deployment" and bool(f.failing),
            1.5,
            f"{kind} has no progress deadline, and its updated pods are failing",
            "pods",
        )
        card.add(
            f.new_failing and bool(f.serving),
            0.3,
            f"{len(f.serving)} pod(s) of the previous revision still serve while "
            f"{len(f.failing)} new one(s) fail",
            "pods",
        )
        b = f.blocker
        card.add(
            b is not None,
            0.5,
            f"the new pods {b.what}: {b.signal.summary}" if b else "",
            b.signal.ref if b else None,
        )
        card.add(
            b is not None and b.explained_by is not None,
            -1.5,
            f"{b.explained_by} explains the blocking pods; the stuck rollout is its symptom"
            if b
            else "",
        )
        card.add(
            f.completed,
            -3.0,
            f"the rollout completed (Progressing True, NewReplicaSetAvailable, "
            f"{w.ready_replicas}/{w.replicas} ready)"
            if w
            else "",
            "deployments",
        )
        card.add(
            not f.stuck and not f.completed,
            -2.0,
            f"no rollout of {component} has passed its progress deadline",
        )
        revision = w.current.revision if w and w.current else None
        cause = f"{kind} {component}'s rollout" + (
            f" to revision {revision}" if revision is not None else ""
        )
        if f.completed:
            cause += " completed; nothing is stuck"
        else:
            cause += " is stuck"
            if b is not None:
                cause += f": the new pods {b.what}"
                if b.explained_by:
                    cause += f" (see {b.explained_by})"
            elif f.failing:
                cause += f": {len(f.failing)} new pod(s) never become ready"
        return card, cause, [component]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        f = _findings(ctx)
        w = f.workload
        kind = (w.kind if w else ctx.scope.kind or "Deployment").lower()
        name = components[0]
        target = Target(kind=kind, name=name, namespace=ctx.namespace)
        if _can_roll_back(f) and w is not None and w.previous is not None:
            current = w.current.revision if w.current else "?"
            return [
                make_action(
                    ActionType.ROLLBACK,
                    target,
                    parameters={"to_revision": w.previous.revision},
                    rationale=(
                        f"revision {current}'s pods fail while revision "
                        f"{w.previous.revision}'s still serve; rolling back restores the "
                        "known-good spec"
                    ),
                )
            ]
        ns = ctx.namespace or "<namespace>"
        steps = [
            f"kubectl -n {ns} rollout status {kind}/{name} --timeout=10s",
            f"kubectl -n {ns} describe {kind} {name}: the Progressing condition and the "
            "new ReplicaSet's name",
            f"kubectl -n {ns} describe rs -l app={name} and the new pods' events: what "
            "blocks them" + (f" (now: {f.blocker.what})" if f.blocker else ""),
            f"kubectl -n {ns} rollout history {kind}/{name}: what the new revision changed",
            "fix what blocks the new pods, or, if the new revision itself is bad: "
            f"kubectl -n {ns} rollout undo {kind}/{name}",
        ]
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                target,
                rationale=(
                    "what blocks the rollout is not the new revision's fault, or no previous "
                    "revision is known to be good: rolling back could change nothing or make "
                    "it worse"
                ),
                steps=steps,
            )
        ]


PATTERN = RolloutStuck()
