"""Crash loop from bad configuration: containers exit at startup because their config is
wrong or missing.

Typical alerts: KubePodCrashLooping, KubeContainerWaiting, KubeDeploymentRolloutStuck,
KubeDeploymentReplicasMismatch. Key signals: CreateContainerConfigError (a referenced
Secret/ConfigMap or key does not exist), or CrashLoopBackOff with a plain error exit (1, 2,
78) and the application saying so ("invalid configuration", "missing required env",
"failed to parse config"). A rollout that changed env or config shortly before adds weight.
OOMKilled / exit 137 is a memory problem (oom_kill_loop), not a config one.

When a recent rollout introduced the change, rolling back to the previous revision is the fix
(medium risk). When no rollout did (a ConfigMap or Secret edited in place), a rollback
restores nothing, so a person gets exact steps.
"""

from __future__ import annotations

from datetime import timedelta

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.domain.evidence import Deployment, KubeEvent, PodState, Revision
from firstline.patterns import queries
from firstline.patterns.base import Pattern, PatternContext, Scorecard

RECENT_CHANGE = timedelta(hours=2)
LOOP_RESTARTS = 3
CONFIG_EXIT_CODES = {1, 2, 78}  # generic error, misuse/usage, EX_CONFIG
CONFIG_LINES = (
    "invalid configuration",
    "invalid config",
    "configuration error",
    "config validation failed",
    "failed to parse config",
    "failed to load config",
    "error parsing config",
    "could not load config",
    "missing required env",
    "required environment variable",
    "environment variable not set",
    "is required but not set",
    "missing required configuration",
    "unknown configuration key",
    "yaml: unmarshal errors",
    "cannot unmarshal",
)
_CONFIG_WAITING = {"CreateContainerConfigError", "CreateContainerError"}


# Log families that blame something other than the configuration for a crash.
OTHER_CAUSES = ("cert_expired", "dns_failure", "connection_refused", "oom", "db_connection_limit",
                "pool_exhausted", "disk_full")  # fmt: skip


def _own_pods(ctx: PatternContext) -> list[PodState]:
    """The alerting workload's pods, as the scope resolves them; a namespace-level alert
    (no workload named) has none of its own."""
    if ctx.scope.empty:
        return []
    return ctx.scope.select(ctx.evidence.pods())


def _own_deployment(deployments: list[Deployment], component: str | None) -> Deployment | None:
    if not component:
        return None
    exact = [d for d in deployments if d.name == component]
    loose = [d for d in deployments if d.name.startswith(component) or component.startswith(d.name)]
    return next(iter(exact or loose), None)


def _missing_refs(events: list[KubeEvent], component: str | None) -> list[KubeEvent]:
    """Events saying a referenced ConfigMap/Secret (or a key in it) does not exist."""
    found = []
    for event in events:
        text = event.message.lower()
        about_config = ("configmap" in text or "secret" in text) and (
            "not found" in text or "couldn't find key" in text
        )
        own = component is None or component in event.object
        if own and (event.reason in {"Failed", "FailedMount"} and about_config):
            found.append(event)
    return found


def _env_changes(current: Revision, previous: Revision) -> list[str]:
    before = {c.name: c.env for c in previous.containers}
    changed: list[str] = []
    for container in current.containers:
        old = before.get(container.name, {})
        keys = set(old) | set(container.env)
        changed.extend(sorted(k for k in keys if old.get(k) != container.env.get(k)))
    return changed


def recent_config_rollout(ctx: PatternContext) -> tuple[Revision, Revision, list[str]] | None:
    """The rollout that changed env/config shortly before the alert, if any."""
    deployment = _own_deployment(ctx.evidence.deployments(), ctx.component)
    if deployment is None or deployment.current is None or deployment.previous is None:
        return None
    current, previous = deployment.current, deployment.previous
    start = ctx.alert.starts_at
    if not start - RECENT_CHANGE <= current.created_at <= start:
        return None
    changes = _env_changes(current, previous)
    cause = (current.change_cause or "").lower()
    if not changes and any(w in cause for w in ("config", "env", "secret")):
        changes = [current.change_cause or "config"]
    return current, previous, changes


def _crash_looping(pod: PodState) -> bool:
    """Restarting on an error exit: waiting in CrashLoopBackOff, or caught in the moment it
    runs between two back-offs (not ready, restarted again and again): a snapshot of a
    loop with short back-offs often shows the container running."""
    exited_badly = pod.last_exit_code in CONFIG_EXIT_CODES or (
        pod.last_exit_code is None and pod.last_termination_reason == "Error"
    )
    between_back_offs = pod.restart_count >= LOOP_RESTARTS and not pod.ready
    return exited_badly and (pod.waiting_reason == "CrashLoopBackOff" or between_back_offs)


class CrashLoopBadConfig(Pattern):
    id = "crash_loop_bad_config"
    title = "Crash loop from bad configuration"
    default_severity = Severity.HIGH
    alert_names = (
        r"KubePodCrashLooping",
        r"KubeContainerWaiting",
        r"KubeDeploymentRolloutStuck",
        r"KubeDeploymentReplicasMismatch",
        r"KubePodNotReady",
        r".*CrashLoop.*",
    )
    metrics = (queries.RESTARTS,)
    symptom_is_current = True
    confirm_with = (
        "kubectl logs --previous: the application's own words about its configuration",
        "kubectl describe pod: CreateContainerConfigError naming a missing ConfigMap/Secret key",
        "the last rollout's env/config diff",
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        ev = ctx.evidence
        component = ctx.component or "the workload"
        pods = _own_pods(ctx)
        oom = [
            p for p in pods if p.last_termination_reason == "OOMKilled" or p.last_exit_code == 137
        ]
        looping = [p for p in pods if _crash_looping(p)]
        config_wait = [p for p in pods if p.waiting_reason in _CONFIG_WAITING]
        events = ev.events()
        missing = _missing_refs(events.events if events else [], ctx.component)
        card.add(
            bool(looping),
            1.5,
            f"{len(looping)} pod(s) in CrashLoopBackOff, exit code {looping[0].last_exit_code}"
            if looping
            else "",
            "pods",
        )
        card.add(
            bool(config_wait) or bool(missing),
            3.0,
            f"{missing[0].message}"
            if missing
            else f"{len(config_wait)} pod(s) waiting in CreateContainerConfigError",
            "events" if missing else "pods",
        )
        card.add(
            bool(config_wait) and bool(missing),
            0.5,
            f"{len(config_wait)} pod(s) waiting in CreateContainerConfigError",
            "pods",
        )
        logs = ev.logs()
        config_lines = max(
            logs.count_matching(*CONFIG_LINES) if logs else 0,
            ctx.signals.count("missing_config"),
        )
        card.add(
            config_lines >= 2,
            2.0,
            f"{config_lines} log lines of the application rejecting its configuration",
            "logs",
        )
        card.add(config_lines == 1, 1.5, "the application rejects its configuration", "logs")
        start = ctx.signals.of("start_failed")
        card.add(
            bool(start),
            3.0,
            start[0].summary if start else "",
            "pods",
        )
        others = [f for f in OTHER_CAUSES if ctx.signals.has(f)]
        card.add(
            bool(others) and not config_lines and not config_wait and not missing,
            -1.5,
            f"the logs blame {', '.join(others)}, not the configuration",
            "logs",
        )
        rollout = recent_config_rollout(ctx)
        if rollout is not None:
            current, previous, changes = rollout
            card.add(
                bool(changes),
                1.0,
                f"revision {current.revision} changed {', '.join(changes[:4])} shortly before",
                "deployments",
            )
            card.add(
                not changes and current.images != previous.images,
                0.3,
                f"revision {current.revision} (new image) rolled out shortly before",
                "deployments",
            )
        card.add(
            bool(oom),
            -3.0,
            f"{len(oom)} pod(s) were OOMKilled (exit 137): memory, not config",
            "pods",
        )
        card.add(
            not looping and not config_wait and not missing and not start,
            -2.5,
            f"no pod of {component} is crash-looping on an error exit or failing on its config",
        )
        cause = (
            f"{component} cannot start: its configuration is invalid or references something "
            "missing"
        )
        if rollout is not None:
            cause += f" since revision {rollout[0].revision}"
        return card, cause, [component]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        target = Target(kind="deployment", name=components[0], namespace=ctx.namespace)
        rollout = recent_config_rollout(ctx)
        if rollout is not None:
            current, previous, _ = rollout
            return [
                make_action(
                    ActionType.ROLLBACK,
                    target,
                    rationale=f"revision {current.revision} broke startup; revision "
                    f"{previous.revision} ran with the previous configuration",
                    parameters={"to_revision": previous.revision},
                )
            ]
        ns = ctx.namespace or "default"
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                target,
                rationale="no rollout changed the configuration, so a rollback restores "
                "nothing: a ConfigMap or Secret was changed in place",
                steps=[
                    f"kubectl -n {ns} logs deployment/{target.name} --previous --tail=50",
                    f"kubectl -n {ns} get deployment {target.name} -o yaml | grep -A3 -E "
                    "'configMapRef|secretRef|configMapKeyRef|secretKeyRef|configMap:'",
                    f"compare the referenced ConfigMaps/Secrets in {ns} with version control "
                    "and revert the bad change (kubectl apply the last good version)",
                    f"kubectl -n {ns} rollout restart deployment/{target.name}",
                ],
            )
        ]


PATTERN = CrashLoopBadConfig()
