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


def _template_hash(pod: PodState) -> str | None:
    return pod.labels.get("pod-template-hash") or (
        pod.name.rsplit("-", 2)[-2] if pod.name.count("-") >= 2 else None
    )


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
    current = {_template_hash(p) for p in pods if p.ready}
    # pods of an older ReplicaSet still terminating are history, not the present
    live = [p for p in pods if _template_hash(p) in current or p.ready]
    if not live or not all(p.ready and p.phase == "Running" for p in live):
        return None
    trouble = [s for s in signals.of(*_TROUBLE) if s.subject.rpartition("/")[2] not in
               {p.name for p in pods if p not in live}]  # fmt: skip
    times = [s.last_seen for s in trouble if s.last_seen is not None]
    if any(now - t < QUIET for t in times):
        return None
    if any(s.last_seen is None and s.ref != "pods" for s in trouble):
        return None
    if any(s.family in ("crash_loop", "image_pull", "config_error") for s in trouble
           if s.subject.rpartition("/")[2] in {p.name for p in live}):  # fmt: skip
        return None
    d = workloads[0]
    last = max(times) if times else None
    quiet = (
        f"; the last warning was {int((now - last).total_seconds() // 60)} min ago" if last else ""
    )
    return f"{d.name} is healthy now: {d.ready_replicas}/{d.replicas} replicas ready{quiet}"
