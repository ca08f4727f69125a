"""Probe failure: the kubelet's liveness, readiness or startup probe fails for a workload.

Typical alerts: KubePodNotReady, KubePodCrashLooping, KubeContainerRestarting,
KubeDeploymentReplicasMismatch, a rising latency. The classic case is a liveness probe that
kills pods which are alive but slow: Unhealthy events "Liveness probe failed: Get
"http://10.0.3.17:8080/healthz": context deadline exceeded (Client.Timeout exceeded while
awaiting headers)", then Killing "Container api failed liveness probe, will be restarted",
containers ending with exit 137/143 without an OOM record, and restarts piling up. Readiness
failures alone take pods out of their Service (NotReady) without restarting them.

What rules it out: OOMKilled (the memory limit kills the container, oom_kill_loop); the
container exiting on its own with an error code (an application crash, whose own logs say
why); a container that never starts (image pull, CreateContainerConfigError); and a health
endpoint that fails because a dependency it checks is down (the application's logs show
connections refused or names not resolving; upstream_dependency_failure), where loosening
the probe would hide the outage; and a container throttled at its CPU limit, whose endpoint is
slow for that reason (cpu_saturation). A few readiness failures alone are a symptom of
slowness, so they count for less than probes that restart containers. Probe failures confined to the new ReplicaSet of a stuck
rollout point at the new revision (rollout_stuck).

What to do: probe thresholds are a judgement about the application, so a person gets exact
steps (time the endpoint from inside the pod, raise timeoutSeconds/failureThreshold, add a
startupProbe for slow starts, keep dependencies out of the liveness check). Firstline never
edits probes itself, and a restart would only repeat what the kubelet already does.
"""

from __future__ import annotations

import re
import statistics

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.domain.evidence import PodState
from firstline.domain.signal import Signal
from firstline.patterns import queries
from firstline.patterns.base import Pattern, PatternContext, Scorecard

KILLED_CODES = frozenset({137, 143})  # SIGKILL after the grace period, SIGTERM honoured
THROTTLED_HIGH = 0.25  # CPUThrottlingHigh's threshold in the kubernetes mixin
MANY_FAILURES = 10
DEPENDENCY_LOGS = (
    "connection_refused",
    "dns_failure",
    "upstream_unavailable",
    "db_connection_limit",
)
NOT_RUNNING = ("image_pull", "config_error", "start_failed")
_POD_HASH = re.compile(r"^(?P<base>.+)-(?P<hash>[a-z0-9]{6,10})-[a-z0-9]{5}$")


def _template_hash(pod: PodState) -> str | None:
    """The pod's ReplicaSet (pod-template-hash), from its label or its name."""
    if label := pod.labels.get("pod-template-hash"):
        return label
    match = _POD_HASH.match(pod.name)
    return match.group("hash") if match else None


def _probe_pods(probes: list[Signal]) -> set[str]:
    return {s.subject.removeprefix("pod/") for s in probes if s.subject.startswith("pod/")}


def _only_new_replicaset(ctx: PatternContext, probes: list[Signal]) -> bool:
    """Probe failures only on pods of one ReplicaSet while pods of another serve, during a
    rollout that stopped progressing: the new revision fails, not the probe settings."""
    if not ctx.signals.has("rollout_stuck"):
        return False
    pods = ctx.scope.select(ctx.evidence.pods())
    failing = _probe_pods(probes)
    bad = {_template_hash(p) for p in pods if p.name in failing}
    good = {_template_hash(p) for p in pods if p.name not in failing and p.ready}
    return bool(bad) and None not in bad and bool(good) and not bad & good


class ProbeFailure(Pattern):
    id = "probe_failure"
    title = "Liveness/readiness probe failing"
    default_severity = Severity.HIGH
    alert_names = (
        r"KubePodNotReady",
        r"KubePodCrashLooping",
        r"KubeContainer.*Restart.*",
        r"KubeDeploymentReplicasMismatch",
        r"KubeStatefulSetReplicasMismatch",
        r".*(Liveness|Readiness|Startup).?Probe.*",
        r".*Pod.*NotReady.*",
    )
    metrics = (queries.LATENCY_P99, queries.CPU_THROTTLED)
    reads = ("pods", "events", "logs")
    symptom_is_current = True
    confirm_with = (
        "kubectl describe pod <pod>: the Unhealthy and Killing events and the probe settings "
        "(timeout, period, failureThreshold)",
        "time the probe's endpoint from inside the pod (kubectl exec ... -- wget -qO- -T 5 "
        "http://localhost:<port><path>) and compare with timeoutSeconds",
        "kubectl logs <pod> --previous: a clean shutdown after SIGTERM means the kubelet "
        "killed it; a stack trace or a dependency error means something else did",
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        sig = ctx.signals
        component = ctx.workload() or "the workload"
        probes = sig.of("probe_failed")
        killing = [p for p in probes if p.attributes.get("restarts_container") == "yes"]
        readiness = [p for p in probes if p.attributes.get("probe") == "readiness"]
        kinds = sorted({p.attributes.get("probe", "") for p in probes} - {""})
        causes = {p.attributes.get("cause", "") for p in probes} - {""}
        if killing:
            first = killing[0]
            card.add(
                True,
                3.0,
                f"{first.attributes.get('probe', 'liveness')} probe failures restart the "
                f"container: {first.summary}",
                first.ref,
            )
        elif readiness:
            # readiness alone restarts nothing: a few failures under load are a symptom
            card.add(
                True,
                1.5,
                f"readiness probe failures take pods out of service: {readiness[0].summary}",
                readiness[0].ref,
            )
            failures = sum(p.count for p in readiness)
            card.add(
                failures >= MANY_FAILURES,
                0.5,
                f"{failures} readiness probe failures, not a blip",
                "events",
            )
        card.add(
            any(p.attributes.get("reason") == "Killing" for p in killing),
            0.5,
            "the kubelet reports killing containers that failed their probe",
            "events",
        )
        card.add(
            bool(probes) and causes == {"timeout"},
            0.5,
            "the probe times out (the endpoint answers too slowly, it is not refused)",
            "events",
        )
        pods = ctx.scope.select(ctx.evidence.pods())
        oom = sig.of("oom_killed")
        killed = [
            p
            for p in pods
            if p.last_exit_code in KILLED_CODES and p.last_termination_reason != "OOMKilled"
        ]
        card.add(
            bool(probes) and bool(killed) and not oom,
            0.7,
            f"{len(killed)} pod(s) last ended with exit {killed[0].last_exit_code} "
            "(killed from outside) without an OOM record"
            if killed
            else "",
            "pods",
        )
        card.add(
            bool(probes) and sig.has("restarts"),
            0.3,
            f"{sig.count('restarts')} restarts among the workload's pods",
            "pods",
        )
        not_ready = [p for p in pods if not p.ready and p.phase == "Running"]
        card.add(
            bool(readiness) and bool(not_ready),
            0.5,
            f"{len(not_ready)} running pod(s) are not Ready",
            "pods",
        )
        latency = ctx.evidence.metric("latency_p99")
        card.add(
            bool(killing)
            and latency is not None
            and latency.anomalous
            and latency.findings[0].direction == "up",
            0.5,
            f"p99 latency {latency.findings[0].sentence}" if latency and latency.findings else "",
            latency.id if latency else None,
        )
        # what rules it out
        throttled = ctx.evidence.metric(queries.CPU_THROTTLED.name)
        throttle = (
            statistics.median(p.value for p in throttled.points[-5:])
            if throttled and throttled.points
            else None
        )
        card.add(
            bool(probes) and throttle is not None and throttle >= THROTTLED_HIGH,
            -1.5,
            f"CPU throttled in {throttle:.0%} of CFS periods: the endpoint is slow because the "
            "container is starved of CPU (cpu_saturation)"
            if throttle is not None
            else "",
            throttled.id if throttled else None,
        )
        card.add(
            bool(oom),
            -4.0,
            f"{oom[0].summary}: the memory limit kills the container, not a probe" if oom else "",
            "pods",
        )
        crashes = sig.of("error_exit")
        card.add(
            bool(crashes),
            -2.0,
            f"{crashes[0].summary}: the process exits on its own (an application crash)"
            if crashes
            else "",
            "pods",
        )
        never = sig.of(*NOT_RUNNING)
        card.add(
            bool(never),
            -2.0,
            f"{never[0].summary}: the container never runs, so no probe is the cause"
            if never
            else "",
            "pods",
        )
        dependency = [s for s in sig.of(*DEPENDENCY_LOGS) if s.count >= 3]
        card.add(
            bool(dependency),
            -2.0,
            f"the health check fails because a dependency is down: {dependency[0].summary}"
            if dependency
            else "",
            "logs",
        )
        card.add(
            bool(probes) and _only_new_replicaset(ctx, probes),
            -1.5,
            "only the new ReplicaSet's pods fail their probe while the old ones serve: the new "
            "revision is broken (rollout_stuck)",
            "deployments",
        )
        card.add(not probes, -2.5, f"no probe of {component} is failing")
        what = "/".join(kinds) or "liveness"
        if killing and causes == {"timeout"}:
            cause = (
                f"{component}'s {what} probe times out and the kubelet restarts containers "
                "that are alive but answer slower than the probe's timeout"
            )
        elif killing:
            cause = f"{component}'s {what} probe fails and the kubelet keeps restarting it"
        else:
            cause = (
                f"{component}'s pods fail their {what} probe and are taken out of service "
                "(NotReady)"
            )
        return card, cause, [component]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        ns = ctx.namespace or "<namespace>"
        name = components[0]
        failing = sorted(_probe_pods(ctx.signals.of("probe_failed")))
        pod = failing[0] if failing else "<pod>"
        owners = [p.owner_kind for p in ctx.scope.select(ctx.evidence.pods()) if p.owner_kind]
        kind = (ctx.scope.kind or next(iter(owners), "Deployment")).lower()
        steps = [
            f"kubectl -n {ns} describe pod {pod}: read the Unhealthy/Killing events and the "
            "probe's timeoutSeconds, periodSeconds and failureThreshold",
            f"kubectl -n {ns} get {kind} {name} -o jsonpath="
            "'{.spec.template.spec.containers[*].livenessProbe}' (and readinessProbe, "
            "startupProbe)",
            f"time the endpoint from inside the pod: kubectl -n {ns} exec {pod} -- "
            "sh -c 'time wget -qO- -T 10 http://localhost:<port><path>'",
            f"kubectl -n {ns} top pod {pod} and check CPU throttling: a starved or "
            "garbage-collecting process answers late",
            "if the endpoint is just slow: raise the liveness probe's timeoutSeconds and "
            "failureThreshold, or add a startupProbe for slow starts, through the usual "
            "change process",
            "if the health endpoint checks a database or another service: make liveness "
            "check only the process itself and leave dependencies to readiness",
            f"kubectl -n {ns} get pods -w: restarts stop and pods stay Ready",
        ]
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                Target(kind=kind, name=name, namespace=ctx.namespace),
                rationale=(
                    "probe settings encode how slow the application may be; changing them is a "
                    "judgement about the application, and restarting pods only repeats what "
                    "the kubelet already does"
                ),
                steps=steps,
            )
        ]


PATTERN = ProbeFailure()
