"""Disk pressure: a node's filesystem or a persistent volume runs out of space or inodes.

Typical alerts: NodeFilesystemSpaceFillingUp, NodeFilesystemAlmostOutOfSpace,
NodeFilesystemFilesFillingUp, KubePersistentVolumeFillingUp, and the evictions that follow.
Key signals: a node condition DiskPressure=True, a filesystem or volume with under 10% free,
inodes under 5% free, "No space left on device" in logs. Corroborating: kubelet evictions
for ephemeral-storage, failed image garbage collection, a falling free-space trend.

What to delete (images, logs, WAL, data) or whether to grow a volume is a judgement a person
makes with the evidence in front of them, so the remedy is manual with exact steps.
"""

from __future__ import annotations

from firstline.actions.catalog import make_action
from firstline.domain.action import ActionType, RemediationAction, Target
from firstline.domain.alert import Severity
from firstline.domain.evidence import EvidenceSet, MetricEvidence
from firstline.domain.query import MetricQuery
from firstline.patterns.base import Pattern, PatternContext, Scorecard

_FS = 'instance=~"$instance.*",fstype!~"tmpfs|overlay|squashfs"'
_AT_MOUNT = 'instance=~"$instance.*",mountpoint="$mountpoint"'
_PVC = 'namespace="$namespace",persistentvolumeclaim=~".*$service.*"'

DISK_FREE_RATIO = MetricQuery(
    name="disk_free_ratio",
    unit="ratio",
    # the filesystem the alert names, whatever its type (the usual filter drops tmpfs, and
    # an alert on a tmpfs volume then had no evidence); else the fullest real one
    promql=(
        f"min(node_filesystem_avail_bytes{{{_AT_MOUNT}}} / node_filesystem_size_bytes{{{_AT_MOUNT}}})"
        f" or min(node_filesystem_avail_bytes{{{_FS}}} / node_filesystem_size_bytes{{{_FS}}})"
    ),
    description="Free share of the fullest node filesystem.",
)
DISK_INODES_FREE_RATIO = MetricQuery(
    name="disk_inodes_free_ratio",
    unit="ratio",
    promql=f"min(node_filesystem_files_free{{{_FS}}} / node_filesystem_files{{{_FS}}})",
    description="Free share of inodes on the fullest node filesystem.",
)
DISK_PV_FREE_RATIO = MetricQuery(
    name="disk_pv_free_ratio",
    unit="ratio",
    promql=(
        f"min(kubelet_volume_stats_available_bytes{{{_PVC}}}"
        f" / kubelet_volume_stats_capacity_bytes{{{_PVC}}})"
    ),
    description="Free share of the workload's persistent volumes.",
)

FULL_LINES = (
    "no space left on device",
    "disk full",
    "disk quota exceeded",
    "could not extend file",
    "not enough space on the disk",
    "enospc",
)
EVICTION_WORDS = ("ephemeral-storage", "nodefs", "imagefs", "diskpressure", "disk pressure")
LOW_FREE = 0.10
LOW_INODES = 0.05


def _last(metric: MetricEvidence | None) -> float | None:
    return metric.last if metric is not None else None


def _fullest(ev: EvidenceSet) -> MetricEvidence | None:
    found = [m for m in (ev.metric("disk_free_ratio"), ev.metric("disk_pv_free_ratio")) if m]
    return min(found, key=lambda m: m.last if m.last is not None else 1.0, default=None)


def _pressured(ev: EvidenceSet) -> list[str]:
    return [
        n.name
        for n in ev.nodes()
        if (c := n.condition("DiskPressure")) is not None and c.status == "True"
    ]


def _locate(ctx: PatternContext) -> tuple[str, str]:
    """What is full: ("persistentvolumeclaim", name) or ("node", name)."""
    pressured = _pressured(ctx.evidence)
    fullest = _fullest(ctx.evidence)
    labels = ctx.alert.labels
    if fullest is not None and fullest.name == "disk_pv_free_ratio" and not pressured:
        pvc = (
            fullest.labels.get("persistentvolumeclaim")
            or labels.get("persistentvolumeclaim")
            or f"data-{ctx.component or 'volume'}"
        )
        return "persistentvolumeclaim", pvc
    node = (
        (pressured[0] if pressured else None)
        or (fullest.labels.get("node") if fullest else None)
        or labels.get("node")
        or labels.get("instance", "").split(":")[0]
        or "unknown-node"
    )
    return "node", node


def _mountpoint(ctx: PatternContext) -> str | None:
    """The full filesystem's mount point, when the alert (node-exporter's `mountpoint`
    label) or the free-space series names it."""
    fullest = _fullest(ctx.evidence)
    return ctx.alert.labels.get("mountpoint") or (
        fullest.labels.get("mountpoint") if fullest is not None else None
    )


class DiskPressure(Pattern):
    id = "disk_pressure"
    title = "Disk or inode pressure"
    default_severity = Severity.HIGH
    alert_names = (
        r"NodeFilesystem.*",
        r"KubePersistentVolume.*",
        r".*Disk.*",
        r".*Inode.*",
        r".*Filesystem.*",
        r".*Volume.*Full.*",
    )
    metrics = (DISK_FREE_RATIO, DISK_INODES_FREE_RATIO, DISK_PV_FREE_RATIO)

    confirm_with = (
        "df -h / df -i on the node or the volume; what grew (du -xsh)",
        "kubectl describe node: DiskPressure and evictions",
    )

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)
        ev = ctx.evidence
        keys: list[tuple[str, str]] = []
        pressured = _pressured(ev)
        if pressured:
            keys.append((f"DiskPressure=True on {', '.join(pressured)}", "nodes"))
        free_metric = _fullest(ev)
        free = _last(free_metric)
        if free_metric is not None and free is not None and free < LOW_FREE:
            keys.append((f"{free * 100:.1f}% space left ({free_metric.name})", free_metric.id))
        inodes = ev.metric("disk_inodes_free_ratio")
        if inodes is not None and inodes.last is not None and inodes.last < LOW_INODES:
            keys.append((f"{inodes.last * 100:.1f}% inodes left", inodes.id))
        logs = ev.logs()
        full_lines = logs.count_matching(*FULL_LINES) if logs else 0
        if full_lines:
            keys.append((f"{full_lines} 'No space left on device' log lines", "logs"))
        for index, (note, ref) in enumerate(keys):
            card.add(True, 3.0 if index == 0 else 0.75, note, ref)
        card.add(
            free is not None and free < 0.03,
            0.5,
            "under 3% free: writes fail soon",
            free_metric.id if free_metric else None,
        )
        events = ev.events()
        evictions = [
            e
            for e in (events.events if events else [])
            if e.reason in {"Evicted", "EvictionThresholdMet"}
            and any(w in e.message.lower() for w in EVICTION_WORDS)
        ]
        card.add(
            bool(evictions),
            1.0,
            f"kubelet evicted pods for disk ({evictions[0].message})" if evictions else "",
            "events",
        )
        gc_failed = events.with_reason("FreeDiskSpaceFailed", "ImageGCFailed") if events else []
        card.add(bool(gc_failed), 0.5, "image garbage collection cannot free enough", "events")
        trend = free_metric if free_metric is not None and free_metric.anomalous else None
        card.add(
            bool(keys) and trend is not None and trend.findings[0].direction == "down",
            0.5,
            f"free space {trend.findings[0].sentence}" if trend else "",
            trend.id if trend else None,
        )
        card.add(not keys, -2.5, "no node under DiskPressure, no full filesystem or volume")
        kind, name = _locate(ctx)
        what = "persistent volume" if kind == "persistentvolumeclaim" else "node"
        mountpoint = _mountpoint(ctx) if kind == "node" else None
        where = f" on {mountpoint}" if mountpoint else ""
        return card, f"{what} {name} is out of disk space (or inodes){where}", [name]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        kind, name = _locate(ctx)
        ns = ctx.namespace or "default"
        if kind == "persistentvolumeclaim":
            return [
                make_action(
                    ActionType.MANUAL_ONLY,
                    Target(kind="persistentvolumeclaim", name=name, namespace=ctx.namespace),
                    rationale="a full volume holds data; what to delete or whether to grow it "
                    "is a person's decision",
                    steps=[
                        f"kubectl -n {ns} get pvc {name} -o wide  # size and storage class",
                        "kubectl get storageclass <class> -o jsonpath='{.allowVolumeExpansion}'",
                        f"if expandable: kubectl -n {ns} patch pvc {name} -p "
                        '\'{"spec":{"resources":{"requests":{"storage":"<bigger>"}}}}\'',
                        "inside the pod: du -xh --max-depth=2 <mount> | sort -h | tail "
                        "# find what grew (WAL, logs, temp files)",
                        "never delete database data or WAL files by hand; fix the cause "
                        "(stuck replication slot, failed archiving, runaway log) instead",
                    ],
                )
            ]
        mount = _mountpoint(ctx) or ""
        grown = mount or "/var/lib /var/log"
        return [
            make_action(
                ActionType.MANUAL_ONLY,
                Target(kind="node", name=name),
                parameters={"mountpoint": mount} if mount else None,
                rationale="freeing node disk means choosing what to delete; the kubelet's "
                "own garbage collection is not keeping up",
                steps=[
                    f"kubectl describe node {name}  # DiskPressure condition, recent evictions",
                    f"kubectl cordon {name}  # stop new pods landing while you clean up",
                    f"on the node: df -h {mount}; df -i {mount}; du -xh --max-depth=2 {grown} | "
                    "sort -h | tail",
                    "crictl rmi --prune  # unused images",
                    "journalctl --vacuum-size=500M; remove rotated container logs if huge",
                    "kubectl delete pods -A --field-selector=status.phase=Failed # evicted pods",
                    f"kubectl uncordon {name} once DiskPressure is False",
                ],
            )
        ]


PATTERN = DiskPressure()
