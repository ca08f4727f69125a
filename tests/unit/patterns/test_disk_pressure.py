"""disk_pressure: a node or a volume out of space or inodes; always a person's call."""

from __future__ import annotations

from firstline.domain.evidence import NodeCondition, NodeState
from firstline.patterns.library.disk_pressure import PATTERN

from .builders_a import (
    action_types,
    alert,
    bundle_verdict,
    evaluate,
    event,
    events,
    evidence,
    hypothesis,
    logs,
    nodes,
    ruled_out,
    series,
    targets,
)


def _node(name: str, disk_pressure: bool) -> NodeState:
    return NodeState(
        name=name,
        conditions=[
            NodeCondition(type="Ready", status="True"),
            NodeCondition(type="DiskPressure", status="True" if disk_pressure else "False"),
        ],
    )


def test_bundle_node_disk_pressure_escalates_with_steps() -> None:
    _, _, verdict = bundle_verdict("disk-pressure-node-ephemeral-storage", PATTERN.id)
    h = hypothesis(verdict)
    assert h.pattern == "disk_pressure"
    assert h.confidence >= 0.9
    assert action_types(h) == ["manual_only"]
    assert targets(h) == ["node/ip-10-0-4-21.eu-west-1.compute.internal"]
    assert any("crictl rmi --prune" in step for step in h.suggested_actions[0].steps)
    assert {"nodes", "metric:disk_free_ratio", "events"} <= set(h.evidence_refs)


def test_bundle_full_volume_targets_the_claim() -> None:
    _, _, verdict = bundle_verdict("disk-pressure-volume-inventory-postgres", PATTERN.id)
    h = hypothesis(verdict)
    assert 0.8 <= h.confidence <= 0.95
    assert h.affected_components == ["data-inventory-postgres-0"]
    assert targets(h) == ["persistentvolumeclaim/inventory/data-inventory-postgres-0"]
    assert {"metric:disk_pv_free_ratio", "logs"} <= set(h.evidence_refs)


def test_inodes_exhausted_with_space_left() -> None:
    ev = evidence(
        series("disk_free_ratio", 0.4, unit="ratio", labels={"node": "ip-1"}),
        series("disk_inodes_free_ratio", 0.3, to=0.01, unit="ratio"),
        logs((-2, "open /var/cache/x/123: no space left on device", {"app": "cart"}), repeat=3),
    )
    h = hypothesis(evaluate(PATTERN, alert("NodeFilesystemFilesFillingUp", node="ip-1"), ev))
    assert h.confidence >= 0.7
    assert targets(h) == ["node/ip-1"]


def test_healthy_disks_are_ruled_out() -> None:
    ev = evidence(
        series("disk_free_ratio", 0.35, unit="ratio"),
        series("disk_inodes_free_ratio", 0.7, unit="ratio"),
        nodes(_node("ip-1", False), _node("ip-2", False)),
    )
    out = ruled_out(evaluate(PATTERN, alert("KubeNodeNotReady"), ev))
    assert out.confidence < 0.1


def test_memory_evictions_are_not_disk_pressure() -> None:
    ev = evidence(
        nodes(_node("ip-1", False)),
        events(
            event(
                "Evicted",
                "The node was low on resource: memory. Container cart was using 900Mi.",
                "pod/cart-1",
            )
        ),
    )
    assert ruled_out(evaluate(PATTERN, alert("KubePodNotReady"), ev)).confidence < 0.1


def test_a_host_filesystem_alert_names_its_mountpoint() -> None:
    """node-exporter's HostOutOfDiskSpace on a data volume: the cause, the steps and the
    action's parameters say which filesystem, so a runbook can bind to it."""
    full = alert(
        "HostOutOfDiskSpace",
        service=None,
        instance="lab-host:9100",
        mountpoint="/srv/lab/volume",
        device="/dev/loop3",
    )
    ev = evidence(series("disk_free_ratio", 0.5, to=0.04, unit="ratio"))
    h = hypothesis(evaluate(PATTERN, full, ev))
    assert h.cause.endswith("on /srv/lab/volume")
    assert targets(h) == ["node/lab-host"]
    action = h.suggested_actions[0]
    assert action.parameters == {"mountpoint": "/srv/lab/volume"}
    assert any("df -h /srv/lab/volume" in step for step in action.steps)
