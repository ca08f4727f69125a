"""Whether the alerting workload is healthy *now*, whatever its recent past.

Alerts outlive their cause: a rollout that failed and rolled back, a crash loop during a node
flap, a pod of an old ReplicaSet still terminating. An SRE looks at the present first: all
replicas available, every current pod ready, and no warning about the workload for longer
than a live problem stays quiet. A crash-looping container's back-off is capped at five
minutes and each retry refreshes its events, so ten quiet minutes mean it stopped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from firstline.domain.evidence import EvidenceSet, PodState
from firstline.signals.collect import SignalSet

QUIET = timedelta(minutes=10)
_TROUBLE = frozenset(
    {"crash_loop", "oom_killed", "sigkill", "error_exit", "start_failed", "image_pull",
     "config_error", "unschedulable", "probe_failed", "quota_exceeded", "job_failed",
     "rollout_stuck", "replica_failure", "evicted"}
)  # fmt: skip


def _older(pod: PodState, ready_starts: list[datetime]) -> bool:
    return pod.started_at is not None and bool(ready_starts) and pod.started_at < min(ready_starts)


def recovered(evidence: EvidenceSet, signals: SignalSet, now: datetime | None) -> str | None:
    """A sentence saying why the workload is healthy now, or None when it is not (or
    when the evidence cannot tell: no workload, no pods, no clock)."""
    scope = signals.scope
    if now is None or scope.empty:
        return None
    workloads = [d for d in evidence.deployments() if d.name in scope.workloads]
    pods = scope.select(evidence.pods())
    if not workloads or not pods:
        return None
    if any(d.ready_replicas < d.replicas or (d.unavailable_replicas or 0) > 0 for d in workloads):
        return None
    ready = [p for p in pods if p.ready]
    starts = [p.started_at for p in ready if p.started_at is not None]
    # a pod that is not ready is history only when it is known to be older than every ready
    # one (an old ReplicaSet's pod still terminating); otherwise it is a live problem
    stale = {p.name for p in pods if not p.ready and _older(p, starts)}
    live = [p for p in pods if p.name not in stale]
    if not ready or not all(p.ready and p.phase == "Running" for p in live):
        return None
    events = evidence.events()
    warnings = [e.last_seen for e in (events.events if events else [])
                if e.type == "Warning" and scope.names(e.object)
                and e.object.rpartition("/")[2] not in stale]  # fmt: skip
    trouble = [s for s in signals.of(*_TROUBLE) if s.subject.rpartition("/")[2] not in stale]
    times = [*warnings, *(s.last_seen for s in trouble if s.last_seen is not None)]
    if any(now - t < QUIET for t in times):
        return None
    d = workloads[0]
    last = max(times) if times else None
    quiet = (
        f"; the last warning was {int((now - last).total_seconds() // 60)} min ago" if last else ""
    )
    return f"{d.name} is healthy now: {d.ready_replicas}/{d.replicas} replicas ready{quiet}"
