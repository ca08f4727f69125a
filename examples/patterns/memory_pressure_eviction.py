"""Eviction storm from node memory pressure: the kubelet evicts pods to keep a node alive.

Typical alerts: KubeNodeEviction, KubeNodePressure (KubernetesMemoryPressure), and the
workload alerts that follow (KubePodNotReady, replica mismatches). This is not an OOM kill:
a container over its own memory limit is killed by the kernel (OOMKilled, exit 137) and
restarts in place. Here the *node* runs short of memory, and the kubelet evicts whole pods
(phase Failed, reason Evicted, "The node was low on resource: memory"), those furthest above
their memory request first. They are rescheduled elsewhere, where they can push the next
node over: the pressure moves from node to node until requests match real usage.

Key signal: pods evicted for memory that belong to the alerted workload or ran on the
alerted node. Corroborating: MemoryPressure=True on that node, the kubelet's
EvictionThresholdMet ("Attempting to reclaim memory"), several evictions (a storm, not
housekeeping), little available memory on the node. Evictions for ephemeral-storage belong
to the built-in disk_pressure pattern, and an OOM kill to oom_kill_loop.

Which workload's request is wrong, and whether the node needs more memory, is a judgement a
person makes, so the remedy is manual with exact steps.

Install: copy this file into the folder named by `patterns_dir` (or FIRSTLINE_PATTERNS_DIR).
It imports only `firstline.api`, the stable plug-in API (docs/plugins.md).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from firstline.api import (
    ActionType,
    MetricQuery,
    Pattern,
    PatternContext,
    PodState,
    RemediationAction,
    Scorecard,
    Severity,
    Target,
    make_action,
)

# Metrics are gathered only when a pattern declares them. `$instance` is filled from the
# alert's labels (empty when the alert has none: the regex then matches every node, and
# `min` picks the tightest one).
NODE_MEMORY_AVAILABLE = MetricQuery(
    name="node_memory_available_ratio",  # the evidence id is metric:node_memory_available_ratio
    unit="ratio",
    promql=(
        'min(node_memory_MemAvailable_bytes{instance=~"$instance.*"}'
        ' / node_memory_MemTotal_bytes{instance=~"$instance.*"})'
    ),
    description="Available share of memory on the tightest node.",
)

# What the kubelet writes on a pod it evicted for memory (the pod's status message and its
# Evicted event); an eviction for ephemeral-storage says "low on resource: ephemeral-storage".
MEMORY_EVICTION = re.compile(r"low on resource: memory", re.IGNORECASE)
# The kubelet names the container it ranked first: the likeliest culprit.
OVER_REQUEST = re.compile(
    r"Container (?P<container>\S+) was using (?P<usage>\S+), "
    r"which exceeds its request of (?P<request>[0-9.]+[A-Za-z]*)"
)
STORM = 3  # one eviction can be housekeeping; three or more is a storm
LOW_AVAILABLE = 0.10  # below a tenth of its memory, the kubelet's hard threshold is close


class Eviction(NamedTuple):
    pod: PodState  # as the cluster reports it; only its name when just an event names it
    message: str  # the kubelet's words
    ref: str  # the evidence id it was read from, cited by the hypothesis


def evictions(ctx: PatternContext) -> list[Eviction]:
    """Pods evicted for memory, from the pods' status and from Evicted events. The same pod
    often shows in both; its status comes first, because it knows the pod's node."""
    pods = {p.name: p for p in ctx.evidence.pods()}  # an empty list when pods were not read
    found: dict[str, Eviction] = {}
    for p in pods.values():
        message = p.last_termination_message or ""
        if p.last_termination_reason == "Evicted" and MEMORY_EVICTION.search(message):
            found[p.name] = Eviction(p, message, "pods")
    events = ctx.evidence.events()  # None when events could not be read: never assume data
    for e in events.with_reason("Evicted") if events else []:
        kind, _, name = e.object.partition("/")
        if kind == "pod" and name not in found and MEMORY_EVICTION.search(e.message):
            pod = pods.get(name) or PodState(name=name, namespace=ctx.namespace or "")
            found[name] = Eviction(pod, e.message, "events")
    return list(found.values())


def concerning(ctx: PatternContext, found: list[Eviction]) -> list[Eviction]:
    """The evictions this alert is about: the alerted workload's pods, or pods on the node
    the alert names. A neighbour's eviction is context, never the cause on its own; an alert
    about neither (a cluster-wide eviction alert) takes them all."""
    workload, node = ctx.workload(), ctx.alert.labels.get("node")
    if workload is None and node is None:
        return found
    return [
        e for e in found if (node is not None and e.pod.node == node) or ctx.owns(e.pod, workload)
    ]


def pressured_nodes(ctx: PatternContext) -> list[str]:
    return [
        n.name
        for n in ctx.evidence.nodes()
        if (c := n.condition("MemoryPressure")) is not None and c.status == "True"
    ]


def culprit(found: list[Eviction]) -> str:
    """'cart used 1.4Gi, above its request of 256Mi', from the kubelet's own words."""
    match = next((m for e in found if (m := OVER_REQUEST.search(e.message))), None)
    if match is None:
        return ""
    return f"{match['container']} used {match['usage']}, above its request of {match['request']}"


class MemoryPressureEviction(Pattern):
    # A stable id: hypotheses, decisions and scenario bundles record it. It must not clash
    # with a built-in pattern's id (loading stops with an error if it does).
    id = "memory_pressure_eviction"
    title = "Eviction storm from node memory pressure"
    # Triage severity when the alert carries no usable `severity` label.
    default_severity = Severity.HIGH
    # Alert names this pattern explains (full match, case-insensitive). They are a prior,
    # never a gate: every pattern sees every incident. Matching also spares the pattern the
    # penalty for alerts the catalog knows and points elsewhere (KubeNodeEviction points at
    # disk_pressure and node_not_ready).
    alert_names = (
        r"KubeNodeEviction",
        r"KubeNodePressure",
        r".*MemoryPressure.*",
        r"(Kube|Kubernetes).*Evict.*",
        r"KubePodNotReady",
        r"Kube(Deployment|StatefulSet)ReplicasMismatch",
    )
    metrics = (NODE_MEMORY_AVAILABLE,)
    # The evidence kinds it judges by, besides its metrics: when none of them holds data,
    # the pattern is judged on the alert alone (a ranked guess, never acted on).
    reads = ("pods", "events", "nodes")
    # What a person checks to confirm or refute the cause; reports show it.
    confirm_with = (
        "kubectl get events -A --field-selector reason=Evicted: 'low on resource: memory'",
        "kubectl describe node: MemoryPressure, and the pods' memory requests against usage",
    )
    # `symptom_is_current` stays False: evicted pods are rescheduled and look healthy soon,
    # while the node (and the next one) stays at risk until the requests are fixed.

    def score(self, ctx: PatternContext) -> tuple[Scorecard, str, list[str]]:
        card = Scorecard(prior=-2.5)  # start sceptical (7.6%), like every built-in pattern
        found = concerning(ctx, evictions(ctx))
        ref = found[0].ref if found else None
        names = ", ".join(e.pod.name for e in found[:3])
        # The key signal, worth about +3: without it, nothing below makes this the cause.
        card.add(bool(found), 3.0, f"{len(found)} pod(s) evicted for node memory ({names})", ref)
        # Corroborating signals, +0.5 to +1 each.
        card.add(len(found) >= STORM, 0.5, f"{len(found)} evictions: a storm", ref)
        on = {e.pod.node for e in found if e.pod.node}
        if named := ctx.alert.labels.get("node"):
            on.add(named)
        # pressure counts on the nodes the evictions or the alert name (any node when none is)
        pressured = [n for n in pressured_nodes(ctx) if not on or n in on]
        card.add(bool(pressured), 1.0, f"MemoryPressure=True on {', '.join(pressured)}", "nodes")
        events = ctx.evidence.events()
        reclaiming = [
            e
            for e in (events.with_reason("EvictionThresholdMet") if events else [])
            if "memory" in e.message.lower()
        ]
        card.add(bool(reclaiming), 0.5, "the kubelet is reclaiming memory", "events")
        available = ctx.evidence.metric(NODE_MEMORY_AVAILABLE.name)  # None: no data
        if available is not None and available.last is not None:
            left = available.last
            # cite a metric by its id: verification re-queries the cited metrics
            card.add(left < LOW_AVAILABLE, 0.5, f"{left:.0%} memory left", available.id)
        # The key signal absent costs about -2, so the pattern stays far below the threshold.
        card.add(not found, -2.0, "no pod was evicted for node memory")
        node = (pressured or sorted(on) or ["the node"])[0]
        workloads = sorted({e.pod.owner for e in found if e.pod.owner})
        cause = f"node {node} ran short of memory and the kubelet evicted {len(found)} pod(s)"
        if workloads:
            cause += f" of {', '.join(workloads)}"
        if why := culprit(found):
            cause += f"; {why}"
        # The affected components, root cause first: the node, then the evicted workloads.
        return card, cause, [node, *workloads]

    def remediation(self, ctx: PatternContext, components: list[str]) -> list[RemediationAction]:
        node = components[0]
        return [
            # manual_only: firstline escalates with these steps and never executes anything.
            # make_action applies the catalog's default risk and approval rules.
            make_action(
                ActionType.MANUAL_ONLY,
                Target(kind="node", name=node),
                rationale="the evictions relieved the node for now; which workload's memory "
                "request is wrong, or whether the node needs more memory, is a person's call",
                steps=[
                    f"kubectl describe node {node}  # MemoryPressure, allocated requests",
                    f"kubectl get pods -A -o wide --field-selector spec.nodeName={node}",
                    "kubectl top pods -A --sort-by=memory | head -20  # usage against requests",
                    "kubectl get events -A --field-selector reason=Evicted  # what each used",
                    "raise the culprit's memory request to its real working set (requests = "
                    "limits gives Guaranteed QoS, evicted last)",
                    f"if evictions go on: kubectl cordon {node}, and uncordon once it is stable",
                    "kubectl get pods -A --field-selector status.phase=Failed  # evicted pods "
                    "stay listed until deleted",
                ],
            )
        ]


# The registry loads this module on its own and looks for a module-level `PATTERN` that is
# an instance of a Pattern subclass; a file without one stops loading with an error.
PATTERN = MemoryPressureEviction()
