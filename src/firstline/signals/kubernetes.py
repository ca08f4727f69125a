"""Kubernetes signals: what pods, events, workloads and nodes say, as citable facts.

Each extractor reads one kind of object the way `kubectl describe` shows it: container
termination reasons and exit codes, waiting reasons and their messages, restart counts,
probe failures, scheduling failures with their reasons, quota refusals, Job failures,
rollouts that stopped progressing, node conditions. Whether a fact concerns the alerting
workload is decided by the scope; out-of-scope facts are kept as context.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

from firstline.domain.evidence import Deployment, EvidenceSet, KubeEvent, NodeState, PodState
from firstline.domain.signal import Signal
from firstline.signals.scope import WorkloadScope

SIGKILL = 137
SIGTERM = 143
START_FAILURE = 128  # the runtime could not start the process (exec failed)
CONFIG_EXIT_CODES = frozenset({1, 2, 78})
RECENT = timedelta(minutes=30)

_IMAGE_WAITING = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
_CONFIG_WAITING = {"CreateContainerConfigError", "CreateContainerError"}
_START_REASONS = {"StartError", "RunContainerError", "ContainerCannotRun"}
_START_TEXT = re.compile(
    r"executable file not found|no such file or directory|exec format error|permission denied"
    r"|exec: \"",
    re.IGNORECASE,
)
_OOM_TEXT = re.compile(r"\bOOMKill(ed|ing)\b|out of memory", re.IGNORECASE)
_PROBE = re.compile(r"\b(Liveness|Readiness|Startup) probe (failed|errored)", re.IGNORECASE)
_PROBE_KILL = re.compile(r"failed (liveness|startup) probe", re.IGNORECASE)
_PROBE_CAUSE = (
    ("timeout", re.compile(r"deadline exceeded|timeout|timed out", re.IGNORECASE)),
    ("refused", re.compile(r"connection refused", re.IGNORECASE)),
    ("http_status", re.compile(r"statuscode: ?\d{3}|status code \d{3}", re.IGNORECASE)),
)
_INSUFFICIENT = re.compile(r"Insufficient ([a-z0-9./-]+)", re.IGNORECASE)
_SCHEDULING_CAUSES = (
    ("taint", re.compile(r"untolerated taint|had taint", re.IGNORECASE)),
    ("affinity", re.compile(r"(?<!volume node )affinity|selector", re.IGNORECASE)),
    ("volume", re.compile(r"persistentvolumeclaim|unbound|volume node affinity", re.IGNORECASE)),
    ("unschedulable_nodes", re.compile(r"node\(s\) were unschedulable", re.IGNORECASE)),
)
_QUOTA = re.compile(r"exceeded quota|quota exceeded|failed quota|must specify limits", re.I)
_QUOTA_NAME = re.compile(r"(?:exceeded|failed) quota: ([a-z0-9.-]+)", re.IGNORECASE)
_LIMIT_RANGE = re.compile(
    r"maximum (cpu|memory)[a-z ]* (usage )?per (container|pod)|minimum (cpu|memory)",
    re.IGNORECASE,
)
_IMAGE = re.compile(r"(?i)pull(ing)? image|image ?pull|errimage|image(name| tag)|inspect image")
_JOB_FAILED = {"BackoffLimitExceeded", "DeadlineExceeded", "JobFailed"}
_NODE_PROBLEMS = {"MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"}


def _pod_subject(pod: PodState) -> str:
    return f"pod/{pod.name}"


def _texts(pod: PodState) -> str:
    return " ".join(t for t in (pod.waiting_message, pod.last_termination_message) if t)


def _recent(pod: PodState, now: datetime | None) -> bool:
    """Whether the last termination happened recently (unknown times count as recent)."""
    if now is None or pod.last_termination_at is None:
        return True
    return now - pod.last_termination_at <= RECENT


def _pod_signal(pod: PodState, family: str, summary: str, **attributes: str) -> Signal:
    attrs = {"pod": pod.name, **({"container": pod.container} if pod.container else {})}
    attrs.update({k: v for k, v in attributes.items() if v})
    return Signal(
        family=family,
        summary=summary,
        ref="pods",
        subject=_pod_subject(pod),
        workload=pod.owner,
        count=max(pod.restart_count, 1),
        last_seen=pod.last_termination_at,
        attributes=attrs,
    )


def _termination(pod: PodState, now: datetime | None) -> Iterator[Signal]:
    reason = pod.last_termination_reason or ""
    code = pod.last_exit_code
    text = _texts(pod)
    label = f"{reason or 'terminated'}" + (f", exit {code}" if code is not None else "")
    recent = "yes" if _recent(pod, now) else "no"
    if reason == "OOMKilled" or (code == SIGKILL and _OOM_TEXT.search(text)):
        yield _pod_signal(
            pod,
            "oom_killed",
            f"pod {pod.name} last terminated OOMKilled (exit {code or 137})",
            exit_code=str(code or SIGKILL),
            recent=recent,
        )
    elif code == SIGKILL:
        yield _pod_signal(
            pod,
            "sigkill",
            f"pod {pod.name} was killed (exit 137) without an OOM record",
            exit_code="137",
            recent=recent,
        )
    if reason in _START_REASONS or code == START_FAILURE or _START_TEXT.search(text):
        match = _START_TEXT.search(text)
        detail = match.group(0) if match else ""
        yield _pod_signal(
            pod,
            "start_failed",
            f"pod {pod.name} could not start its process ({label}"
            + (f": {detail}" if detail else "")
            + ")",
            exit_code=str(code) if code is not None else "",
            reason=reason,
            detail=detail,
        )
    elif code is not None and code not in (0, SIGKILL, SIGTERM):
        yield _pod_signal(
            pod,
            "error_exit",
            f"pod {pod.name} exited with an error ({label})",
            exit_code=str(code),
            reason=reason,
            recent=recent,
            config_code="yes" if code in CONFIG_EXIT_CODES else "no",
        )
    elif reason == "Evicted":
        yield _pod_signal(
            pod,
            "evicted",
            f"pod {pod.name} was evicted: {pod.last_termination_message or ''}",
        )


def _waiting(pod: PodState) -> Iterator[Signal]:
    reason = pod.waiting_reason
    if not reason:
        return
    message = pod.waiting_message or ""
    if reason == "CrashLoopBackOff":
        yield _pod_signal(
            pod,
            "crash_loop",
            f"pod {pod.name} is in CrashLoopBackOff ({pod.restart_count} restarts)",
            restarts=str(pod.restart_count),
        )
    elif reason in _IMAGE_WAITING:
        yield _pod_signal(
            pod,
            "image_pull",
            f"pod {pod.name} cannot pull its image ({reason})",
            reason=reason,
            message=message[:300],
        )
    elif reason in _CONFIG_WAITING:
        yield _pod_signal(
            pod,
            "config_error",
            f"pod {pod.name} waits in {reason}: {message[:200]}",
            reason=reason,
            message=message[:300],
        )
    if _OOM_TEXT.search(message) and pod.last_termination_reason != "OOMKilled":
        if pod.last_exit_code == SIGKILL:  # exit 137 + this text: _termination reported it
            return
        # the kubelet's back-off message names the last termination when the status omits it
        yield _pod_signal(
            pod, "oom_killed", f"pod {pod.name}: {message[:160]}", exit_code="137", recent="yes"
        )


def _unscheduled(pod: PodState) -> Iterator[Signal]:
    scheduled = pod.condition("PodScheduled")
    if scheduled is not None and scheduled.status == "False":
        message = scheduled.message or ""
        yield _pod_signal(
            pod,
            "unschedulable",
            f"pod {pod.name} is unschedulable: {message[:200]}",
            reason=scheduled.reason or "",
            **_scheduling_causes(message),
        )


def pod_signals(pods: list[PodState], now: datetime | None) -> Iterator[Signal]:
    for pod in pods:
        yield from _termination(pod, now)
        yield from _waiting(pod)
        yield from _unscheduled(pod)
        if pod.restart_count >= 3:
            yield _pod_signal(
                pod,
                "restarts",
                f"pod {pod.name} restarted {pod.restart_count} times",
                restarts=str(pod.restart_count),
                recent="yes" if _recent(pod, now) else "no",
            )
        if pod.phase == "Failed" and pod.owner_kind == "Job":
            yield _pod_signal(pod, "job_failed", f"Job pod {pod.name} failed", job=pod.owner or "")


def _scheduling_causes(message: str) -> dict[str, str]:
    causes = {
        f"insufficient_{m.lower().rstrip('.').split('/')[-1]}": "yes"
        for m in _INSUFFICIENT.findall(message)
    }
    causes.update({name: "yes" for name, regex in _SCHEDULING_CAUSES if regex.search(message)})
    return causes


def _event_signal(event: KubeEvent, family: str, summary: str, **attributes: str) -> Signal:
    kind, _, name = event.object.partition("/")
    return Signal(
        family=family,
        summary=summary,
        ref="events",
        subject=event.object,
        workload=None,
        count=event.count,
        first_seen=event.first_seen,
        last_seen=event.last_seen,
        attributes={"reason": event.reason, "kind": kind, "name": name, **attributes},
    )


def _probe_cause(message: str) -> str:
    return next((name for name, regex in _PROBE_CAUSE if regex.search(message)), "")


def _event(event: KubeEvent) -> Iterator[Signal]:
    message = event.message
    short = f"{event.reason} on {event.object} (x{event.count}): {message[:200]}"
    probe = _PROBE.search(message) or _PROBE_KILL.search(message)
    if event.reason in ("Unhealthy", "Killing") and probe is not None:
        kind = probe.group(1).lower()  # "failed startup probe, will be restarted" is startup
        killing = event.reason == "Killing" or kind in ("liveness", "startup")
        yield _event_signal(
            event,
            "probe_failed",
            short,
            probe=kind,
            cause=_probe_cause(message),
            restarts_container="yes" if killing else "no",
        )
    elif event.reason == "FailedScheduling":
        yield _event_signal(event, "unschedulable", short, **_scheduling_causes(message))
    elif _QUOTA.search(message) or _LIMIT_RANGE.search(message):
        quota = _QUOTA_NAME.search(message)
        yield _event_signal(
            event,
            "quota_exceeded",
            short,
            quota=quota.group(1) if quota else "",
            limit_range="yes" if _LIMIT_RANGE.search(message) else "no",
            message=message[:500],
        )
    elif event.reason in _JOB_FAILED:
        yield _event_signal(event, "job_failed", short)
    elif event.reason in ("OOMKilling",) or (
        event.reason == "BackOff" and _OOM_TEXT.search(message)
    ):
        yield _event_signal(event, "oom_killed", short)
    elif event.reason in ("Failed", "BackOff") and _IMAGE.search(message):
        yield _event_signal(event, "image_pull", short)
    elif event.reason in ("FailedMount", "FailedAttachVolume") and "retried successfully" not in (
        message.lower()
    ):
        yield _event_signal(event, "volume_failure", short)
    elif event.reason in ("NodeNotReady", "NodeHasDiskPressure", "NodeHasInsufficientMemory"):
        yield _event_signal(event, "node_condition", short)
    elif event.reason == "Evicted":
        yield _event_signal(event, "evicted", short)
    elif event.reason in ("ProgressDeadlineExceeded",):
        yield _event_signal(event, "rollout_stuck", short)


def event_signals(events: list[KubeEvent]) -> Iterator[Signal]:
    for event in events:
        yield from _event(event)


def _workload_signal(d: Deployment, family: str, summary: str, **attributes: str) -> Signal:
    return Signal(
        family=family,
        summary=summary,
        ref="deployments",
        subject=f"{d.kind.lower()}/{d.name}",
        workload=d.name,
        attributes={"kind": d.kind, **attributes},
    )


def workload_signals(workloads: list[Deployment]) -> Iterator[Signal]:
    for d in workloads:
        progressing = d.condition("Progressing")
        failure = d.condition("ReplicaFailure")
        if progressing is not None and progressing.reason == "ProgressDeadlineExceeded":
            yield _workload_signal(
                d,
                "rollout_stuck",
                f"{d.kind} {d.name} stopped progressing: "
                f"{progressing.message or progressing.reason}",
                reason=progressing.reason or "",
            )
        if failure is not None and failure.status == "True":
            message = failure.message or failure.reason or ""
            family = "quota_exceeded" if _QUOTA.search(message) else "replica_failure"
            yield _workload_signal(
                d,
                family,
                f"{d.kind} {d.name} cannot create pods: {message[:200]}",
                reason=failure.reason or "",
                message=message[:500],
            )
        if d.ready_replicas < d.replicas:
            yield _workload_signal(
                d,
                "replicas_unavailable",
                f"{d.kind} {d.name} has {d.ready_replicas}/{d.replicas} replicas ready",
                ready=str(d.ready_replicas),
                desired=str(d.replicas),
                updated=str(d.updated_replicas) if d.updated_replicas is not None else "",
            )


def node_signals(nodes: list[NodeState]) -> Iterator[Signal]:
    for node in nodes:
        for condition in node.conditions:
            bad = (condition.type == "Ready" and condition.status != "True") or (
                condition.type in _NODE_PROBLEMS and condition.status == "True"
            )
            if bad:
                state = "NotReady" if condition.type == "Ready" else condition.type
                yield Signal(
                    family="node_condition",
                    summary=f"node {node.name} is {state}"
                    + (f" ({condition.reason})" if condition.reason else ""),
                    ref="nodes",
                    subject=f"node/{node.name}",
                    attributes={
                        "condition": condition.type,
                        "status": condition.status,
                        "reason": condition.reason or "",
                    },
                )


def kubernetes_signals(
    evidence: EvidenceSet, scope: WorkloadScope, now: datetime | None = None
) -> list[Signal]:
    """Every Kubernetes fact, each marked in or out of the alerting workload's scope."""
    pods = evidence.pods()
    owners = {p.name: p.owner for p in pods}
    found: list[Signal] = []
    for signal in pod_signals(pods, now):
        pod = next(p for p in pods if p.name == signal.attributes["pod"])
        found.append(signal.model_copy(update={"in_scope": scope.owns(pod)}))
    events = evidence.events()
    for signal in event_signals(events.events if events else []):
        name = signal.attributes.get("name", "")
        owner = owners.get(name)
        in_scope = scope.names(signal.subject) or (owner is not None and owner in scope.workloads)
        found.append(signal.model_copy(update={"in_scope": in_scope, "workload": owner}))
    for signal in workload_signals(evidence.deployments()):
        found.append(signal.model_copy(update={"in_scope": scope.names(signal.subject)}))
    hosting = {p.node for p in pods if p.node and scope.owns(p)}
    for signal in node_signals(evidence.nodes()):
        node = signal.subject.removeprefix("node/")
        found.append(signal.model_copy(update={"in_scope": scope.empty or node in hosting}))
    return found
