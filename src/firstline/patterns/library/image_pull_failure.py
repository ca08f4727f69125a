"""Image pull failure: the kubelet cannot pull a container image, so new pods never start.

Typical alerts: KubeContainerWaiting, KubeDeploymentReplicasMismatch, KubeDeploymentRolloutStuck,
KubePodNotReady. The key signal is a pod of the workload waiting with ErrImagePull or
ImagePullBackOff; pull-failure events say why (a tag that does not exist, or a registry that
refuses the credentials). A bad reference right after a rollout is undone by rolling back;
a credential problem needs a person to fix the pull secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.domain.evidence import Deployment, EvidenceSet, KubeEvent, PodState, Revision
from firstline.patterns.base import Pattern, PatternContext, Scorecard

PULL_WAITING = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName"})
_PULL_WORDS = ("pull image", "pulling image", "failed to pull", "errimagepull", "imagepull")
_BAD_REFERENCE = (
    "manifest unknown",
    ": not found",
    "not found: manifest",
    "invalidimagename",
    "invalid reference format",
    "name unknown",
)
_AUTH = (
    "unauthorized",
    "no basic auth credentials",
    "authentication required",
    "403 forbidden",
    "insufficient_scope",
    "authorization failed",
    "denied: requested access",
)
RECENT_ROLLOUT = timedelta(hours=2)


@dataclass(frozen=True)
class _Findings:
    waiting: list[PodState]
    events: list[KubeEvent]
    deployment: Deployment | None
    rollout: Revision | None
    bad_reference: bool
    auth: bool

    @property
    def auth_only(self) -> bool:
        return self.auth and not self.bad_reference


def _now(ctx: PatternContext) -> datetime:
    ends = [i.provenance.end for i in ctx.evidence.items if i.provenance.end is not None]
    return max(ends) if ends else ctx.alert.starts_at + timedelta(minutes=5)


def _pull_events(ev: EvidenceSet, pods: list[PodState], component: str | None) -> list[KubeEvent]:
    found = ev.events()
    if found is None:
        return []
    objects = {f"pod/{p.name}" for p in pods}
    return [
        e
        for e in found.events
        if e.type == "Warning"
        and any(w in e.message.lower() for w in _PULL_WORDS)
        and (e.object in objects or (component is not None and f"/{component}:" in e.message))
    ]


def _recent_rollout(dep: Deployment | None, now: datetime) -> Revision | None:
    """The current revision, if it is recent and changed an image."""
    if dep is None or dep.current is None or dep.previous is None:
        return None
    current, previous = dep.current, dep.previous
    if now - current.created_at > RECENT_ROLLOUT or current.images == previous.images:
        return None
    return current


def _findings(ctx: PatternContext) -> _Findings:
    ev, component = ctx.evidence, ctx.workload()
    own = [p for p in ev.pods() if ctx.owns(p, component)]
    waiting = [p for p in own if p.waiting_reason in PULL_WAITING]
    events = _pull_events(ev, own, component)
    text = " ".join(e.message.lower() for e in events)
    owners = {p.owner for p in waiting if p.owner} | ({component} if component else set())
    deployment = next((d for d in ev.deployments() if d.name in owners), None)
    return _Findings(
        waiting=waiting,
        events=events,
        deployment=deployment,
        rollout=_recent_rollout(deployment, _now(ctx)),
        bad_reference=any(w in text for w in _BAD_REFERENCE),
        auth=any(w in text for w in _AUTH),
    )


def _image_change(dep: Deployment) -> str:
    current, previous = dep.current, dep.previous
    if current is None or previous is None:
        return "a new image"
    changed = [
        f"{previous.images.get(name, '?')} -> {image}"
        for name, image in current.images.items()
        if previous.images.get(name) != image
    ]
    return ", ".join(changed) or "a new image"


class ImagePullFailure(Pattern):
    id = "image_pull_failure"
    title = "Image pull failure"
    default_severity = Severity.HIGH
    alert_names = (
        r"KubeContainerWaiting",
        r"KubeDeploymentReplicasMismatch",
        r"KubeDeploymentRolloutStuck",
        r"KubeStatefulSetReplicasMismatch",
        r"KubePodNotReady",
        r".*ImagePull.*",
        r".*ErrImage.*",
    )

    symptom_is_current = True
    confirm_with = (
        "kubectl describe pod: the Failed event's pull error (not found, unauthorized, timeout)",
        "the image tag in the Deployment against the registry's tags",
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        f = _findings(ctx)
        reasons = sorted({p.waiting_reason or "" for p in f.waiting})
        card.add(
            bool(f.waiting),
            3.5,
            f"{len(f.waiting)} pod(s) waiting with {'/'.join(reasons)}",
            "pods",
        )
        if f.events:
            sample = f.events[0].message
            sample = sample if len(sample) <= 160 else f"...{sample[-150:]}"
            card.add(True, 1.0, f"pull-failure events: {sample}", "events")
        if f.rollout is not None and f.deployment is not None:
            age = int((_now(ctx) - f.rollout.created_at).total_seconds() // 60)
            card.add(
                True,
                1.0,
                f"revision {f.rollout.revision} rolled out {age} min ago with "
                f"{_image_change(f.deployment)}",
                "deployments",
            )
        dep = f.deployment
        card.add(
            dep is not None and dep.ready_replicas < dep.replicas,
            0.3,
            f"{dep.name} has {dep.ready_replicas}/{dep.replicas} ready replicas" if dep else "",
            "deployments",
        )
        card.add(not f.waiting, -2.0, "no pod is waiting on an image pull")
        component = dep.name if dep else (ctx.workload() or "the workload")
        if f.auth_only:
            cause = (
                f"{component}'s pods cannot pull their image: the registry rejects the "
                "credentials (imagePullSecret)"
            )
        else:
            cause = (
                f"{component}'s pods cannot pull their image: the image reference does not exist"
            )
            if f.rollout is not None:
                cause += f" (introduced by revision {f.rollout.revision})"
        return card, cause, [component]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        f = _findings(ctx)
        target = Target(kind="deployment", name=components[0], namespace=ctx.namespace)
        if f.rollout is not None and f.deployment is not None and not f.auth_only:
            previous = f.deployment.previous
            params: dict[str, str | int | float | bool] = {}
            if previous is not None:
                params["to_revision"] = previous.revision
            return [
                make_action(
                    ActionType.ROLLBACK,
                    target,
                    parameters=params,
                    rationale=(
                        f"revision {f.rollout.revision} points at an image that cannot be "
                        f"pulled ({_image_change(f.deployment)}); the previous revision's image "
                        "is known to pull and run"
                    ),
                )
            ]
        return [self._manual(ctx, target, f)]

    @staticmethod
    def _manual(ctx: PatternContext, target: Target, f: _Findings) -> RemediationAction:
        ns = ctx.namespace or "<namespace>"
        image = (
            ", ".join(f.deployment.current.images.values())
            if f.deployment and f.deployment.current
            else "<image>"
        )
        steps = [
            f"kubectl -n {ns} describe pod {f.waiting[0].name if f.waiting else '<pod>'} "
            "and read the 'Failed to pull image' event",
            f"kubectl -n {ns} get deploy {target.name} "
            "-o jsonpath='{.spec.template.spec.imagePullSecrets}' to find the pull secret",
            "check the registry credential behind that secret (expired token, rotated robot "
            "account password, revoked access) and refresh the secret with valid credentials",
            f"confirm the image exists and is readable with those credentials: "
            f"crane manifest {image}",
            f"kubectl -n {ns} delete pod -l app={target.name} "
            "--field-selector=status.phase=Pending so the waiting pods retry at once",
        ]
        return make_action(
            ActionType.MANUAL_ONLY,
            target,
            rationale=(
                "registry credentials are managed outside the cluster; a person must fix them"
            ),
            steps=steps,
        )


PATTERN = ImagePullFailure()
