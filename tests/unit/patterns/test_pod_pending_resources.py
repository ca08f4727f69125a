"""pod_pending_resources: unscheduled pods with FailedScheduling "Insufficient cpu/memory";
capacity is a person's decision."""

from __future__ import annotations

from firstline.domain.action import ActionType
from firstline.domain.alert import Alert
from firstline.domain.evidence import PodState
from firstline.patterns.library.pod_pending_resources import PATTERN

from .builders_b import bundle_context, context, deployment, event, evidence, make_alert, pod

INSUFFICIENT_CPU = (
    "0/5 nodes are available: 5 Insufficient cpu. preemption: 0/5 nodes are available: "
    "5 No preemption victims found for incoming pod."
)


def _pods(pending: int = 2, **pending_fields: object) -> list[PodState]:
    running = [pod(f"report-worker-r{i}", "report-worker", node=f"n{i}") for i in range(3)]
    fields = {"phase": "Pending", "ready": False, **pending_fields}
    waiting = [pod(f"report-worker-p{i}", "report-worker", **fields) for i in range(pending)]
    return running + waiting


def _alert() -> Alert:
    return make_alert(
        "KubeDeploymentReplicasMismatch", namespace="analytics", deployment="report-worker"
    )


def test_insufficient_cpu_is_escalated_with_capacity_steps() -> None:
    ev = evidence(
        pods=_pods(),
        events=[
            event("FailedScheduling", INSUFFICIENT_CPU, "pod/report-worker-p0"),
            event("FailedScheduling", INSUFFICIENT_CPU, "pod/report-worker-p1"),
            event(
                "NotTriggerScaleUp",
                "pod didn't trigger scale-up: 1 max node group size reached",
                "pod/report-worker-p0",
                kind="Normal",
            ),
        ],
        deployments=[deployment("report-worker", namespace="analytics", replicas=5, ready=3)],
    )
    h = PATTERN.evaluate(context(_alert(), ev)).hypothesis
    assert h is not None and h.pattern == "pod_pending_resources"
    assert 0.88 <= h.confidence <= 0.95
    assert "cpu" in h.cause
    assert {"pods", "events", "deployments"} <= set(h.evidence_refs)
    [action] = h.suggested_actions
    assert action.type is ActionType.MANUAL_ONLY
    assert str(action.target) == "deployment/analytics/report-worker"
    assert any("maximum" in s for s in action.steps)


def test_pending_on_an_unbound_volume_is_not_capacity() -> None:
    """Near miss: pods are Pending, but the scheduler waits for a PersistentVolumeClaim."""
    ev = evidence(
        pods=_pods(pending=1),
        events=[
            event(
                "FailedScheduling",
                "0/5 nodes are available: pod has unbound immediate PersistentVolumeClaims.",
                "pod/report-worker-p0",
            )
        ],
    )
    verdict = PATTERN.evaluate(context(_alert(), ev))
    assert verdict.hypothesis is None
    assert verdict.ruled_out is not None and verdict.ruled_out.confidence < 0.05
    assert "other than capacity" in verdict.ruled_out.reason


def test_pods_pending_on_an_image_pull_are_not_unscheduled() -> None:
    """Near miss: phase Pending, but scheduled and waiting on ImagePullBackOff."""
    ev = evidence(pods=_pods(node="n1", waiting_reason="ImagePullBackOff"))
    verdict = PATTERN.evaluate(context(_alert(), ev))
    assert verdict.hypothesis is None
    assert verdict.ruled_out is not None and verdict.ruled_out.confidence < 0.2


async def test_bundles() -> None:
    # KubePodNotReady carries only namespace and pod labels: the owner comes from the pod.
    mem = PATTERN.evaluate(await bundle_context("pod-pending-insufficient-memory-embedder"))
    assert mem.hypothesis is not None and mem.hypothesis.confidence >= 0.8
    assert mem.hypothesis.affected_components == ["embedder"]
    assert "memory" in mem.hypothesis.cause
    cpu = PATTERN.evaluate(await bundle_context("pod-pending-insufficient-cpu-reports"))
    assert cpu.hypothesis is not None and cpu.hypothesis.confidence >= 0.85
    assert [a.type for a in cpu.hypothesis.suggested_actions] == [ActionType.MANUAL_ONLY]
