"""Pods, owners, events, nodes, and which of them an incident is about.

kmock stands in for a real API server (no kube-apiserver runs here; see conftest.py). It
ignores label and field selectors, and so does firstline: it lists a namespace and decides
on its own side, by owner references, what belongs to the alert's workload. The objects
below include ones a selector-based lookup would get wrong: a debug pod wearing the
workload's labels, a pod whose labels no longer match, events about other workloads.
"""

from __future__ import annotations

from firstline.sources.kubernetes import KubernetesBackend, KubernetesClient
from firstline.sources.kubernetes.client import CLUSTER_WIDE_LIMIT
from tests.integration.kubernetes.conftest import Cluster, by_id, scope
from tests.integration.kubernetes.objects import (
    container,
    deployment,
    event,
    node,
    pod,
    replicaset,
    terminated,
)

CRASH_LOOP = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}}


def checkout(cluster: Cluster) -> dict[str, dict[str, object]]:
    """checkout with its current ReplicaSet (and an old one), plus cart next door."""
    dep = deployment("checkout")
    rs = replicaset(dep, 7, "7b2e4", minutes_ago=14,
                    containers=[container("checkout", "shop/checkout:1.5.0")])  # fmt: skip
    old = replicaset(dep, 6, "6c9a1", minutes_ago=2000,
                     containers=[container("checkout", "shop/checkout:1.4.2")])  # fmt: skip
    cart = deployment("cart")
    cart_rs = replicaset(cart, 3, "c4r7a", minutes_ago=5000,
                         containers=[container("cart", "shop/cart:3.0")])  # fmt: skip
    cluster.add(dep, rs, old, cart, cart_rs)
    return {"dep": dep, "rs": rs, "old": old, "cart": cart, "cart_rs": cart_rs}


async def test_pod_states_and_termination_reasons(
    cluster: Cluster, backend: KubernetesBackend
) -> None:
    objs = checkout(cluster)
    rs = objs["rs"]
    cluster.add(
        pod("checkout-7b2e4-oom", rs, ready=False, restarts=5, state=CRASH_LOOP,
            last_state=terminated("OOMKilled", 137, 1)),
        pod("checkout-7b2e4-err", rs, ready=False, restarts=2, phase="Running",
            state=terminated("Error", 1, 0.5), last_state=terminated("Error", 1, 3)),
        pod("checkout-7b2e4-pull", rs, phase="Pending", ready=False,
            state={"waiting": {"reason": "ImagePullBackOff"}}),
        pod("checkout-7b2e4-evicted", rs, phase="Failed", ready=False, reason="Evicted",
            state={"waiting": {"reason": "ContainerCreating"}}),
        pod("checkout-7b2e4-init", rs, phase="Pending", ready=False,
            state={"waiting": {"reason": "PodInitializing"}},
            init_statuses=[{"name": "migrate", "restartCount": 4, "state": CRASH_LOOP,
                            "lastState": terminated("Error", 2, 2)}]),
        pod("checkout-7b2e4-ok", rs),
    )  # fmt: skip

    items = await backend.cluster_state(scope(labels={"service": "checkout"}))

    pods = {p.name: p for p in by_id(items, "pods").pods}
    oom = pods["checkout-7b2e4-oom"]
    assert (oom.owner, oom.phase, oom.ready, oom.node) == ("checkout", "Running", False, "node-a")
    assert (oom.restart_count, oom.waiting_reason) == (5, "CrashLoopBackOff")
    assert (oom.last_termination_reason, oom.last_exit_code) == ("OOMKilled", 137)
    err = pods["checkout-7b2e4-err"]  # the current termination is newer than lastState
    assert (err.last_termination_reason, err.last_exit_code, err.restart_count) == ("Error", 1, 2)
    assert pods["checkout-7b2e4-pull"].waiting_reason == "ImagePullBackOff"
    evicted = pods["checkout-7b2e4-evicted"]
    assert (evicted.phase, evicted.last_termination_reason) == ("Failed", "Evicted")
    assert evicted.last_exit_code is None
    init = pods["checkout-7b2e4-init"]  # the failing init container, not "PodInitializing"
    assert (init.waiting_reason, init.restart_count) == ("CrashLoopBackOff", 4)
    assert (init.last_termination_reason, init.last_exit_code) == ("Error", 2)
    healthy = pods["checkout-7b2e4-ok"]
    assert (healthy.ready, healthy.restart_count, healthy.waiting_reason) == (True, 0, None)
    assert healthy.last_termination_reason is None
    assert by_id(items, "pods").provenance.query == (
        "GET /api/v1/namespaces/shop/pods; GET /apis/apps/v1/namespaces/shop/replicasets"
    )


async def test_owners_come_from_owner_references(
    cluster: Cluster, backend: KubernetesBackend
) -> None:
    objs = checkout(cluster)
    rs, old = objs["rs"], objs["old"]
    stateful = {"apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": {"name": "checkout-db", "uid": "uid-db"}}  # fmt: skip
    unlisted = replicaset(deployment("search"), 2, "5ea7c", minutes_ago=60, containers=[])
    cluster.add(
        pod("checkout-7b2e4-aaaaa", rs),
        # labels changed since (an edited template): a selector would miss it, ownership not
        pod("checkout-6c9a1-bbbbb", old, labels={"app": "checkout-legacy"}),
        # a debug pod someone started with checkout's labels: a selector would count it
        pod("debug-shell", None, labels={"app": "checkout", "pod-template-hash": "7b2e4"}),
        pod("checkout-db-0", stateful),
        # its ReplicaSet is not in the listing: the name minus the template hash is the owner
        pod("search-5ea7c-ccccc", unlisted),
        pod("cart-c4r7a-ddddd", objs["cart_rs"]),
    )

    items = await backend.cluster_state(scope(labels={"service": "checkout"}))

    pods = by_id(items, "pods").pods
    owners = {p.name: p.owner for p in pods}
    assert owners == {
        "checkout-7b2e4-aaaaa": "checkout",
        "checkout-6c9a1-bbbbb": "checkout",
        "debug-shell": None,
        "checkout-db-0": "checkout-db",
        "search-5ea7c-ccccc": "search",
        "cart-c4r7a-ddddd": "cart",
    }
    # the alert's own pods come first, bystanders after
    assert [p.name for p in pods[:2]] == ["checkout-7b2e4-aaaaa", "checkout-6c9a1-bbbbb"]
    assert by_id(items, "deployments").deployments[0].name == "checkout"


async def test_events_are_the_workloads_and_warnings_in_the_window(
    cluster: Cluster, backend: KubernetesBackend
) -> None:
    objs = checkout(cluster)
    cluster.add(
        pod("checkout-7b2e4-aaaaa", objs["rs"], node="node-b"),
        pod("cart-c4r7a-ddddd", objs["cart_rs"], node="node-c"),
        event("Deployment", "checkout", "ScalingReplicaSet", minutes_ago=13,
              message="Scaled up replica set checkout-7b2e4 to 3"),
        event("ReplicaSet", "checkout-7b2e4", "SuccessfulCreate", minutes_ago=13),
        event("Pod", "checkout-7b2e4-aaaaa", "BackOff", minutes_ago=3, type_="Warning",
              message="Back-off restarting failed container", count=7),
        # a checkout pod already replaced: known by its ReplicaSet's name
        event("Pod", "checkout-7b2e4-gone1", "Killing", minutes_ago=10),
        # cart's own routine events are not about this incident ...
        event("Deployment", "cart", "ScalingReplicaSet", minutes_ago=20),
        event("Pod", "cart-c4r7a-ddddd", "Pulled", minutes_ago=20),
        # ... but a warning anywhere in scope may be the cause
        event("Pod", "cart-c4r7a-ddddd", "Unhealthy", minutes_ago=4, type_="Warning",
              message="Readiness probe failed: connection refused"),
        # outside the window, and in another namespace
        event("Pod", "checkout-7b2e4-aaaaa", "Started", minutes_ago=61),
        event("Pod", "checkout-7b2e4-aaaaa", "BackOff", minutes_ago=3, namespace="payments",
              type_="Warning"),
    )  # fmt: skip
    cluster.add(
        {  # an events.k8s.io-style event: eventTime and a series, no lastTimestamp
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "checkout.series", "namespace": "shop",
                         "creationTimestamp": "2026-07-21T14:30:00Z"},
            "involvedObject": {"kind": "Pod", "name": "checkout-7b2e4-aaaaa"},
            "reason": "Unhealthy", "type": "Warning", "message": "Liveness probe failed",
            "eventTime": "2026-07-21T14:30:00.000000Z",
            "series": {"count": 12, "lastObservedTime": "2026-07-21T14:58:30.000000Z"},
        }
    )  # fmt: skip

    items = await backend.cluster_state(scope(labels={"service": "checkout"}))

    events = by_id(items, "events")
    assert [(e.object, e.reason) for e in events.events] == [
        ("pod/checkout-7b2e4-aaaaa", "Unhealthy"),  # the workload's, newest first
        ("pod/checkout-7b2e4-aaaaa", "BackOff"),
        ("pod/checkout-7b2e4-gone1", "Killing"),
        ("deployment/checkout", "ScalingReplicaSet"),
        ("replicaset/checkout-7b2e4", "SuccessfulCreate"),
        ("pod/cart-c4r7a-ddddd", "Unhealthy"),  # then warnings about anything else
    ]
    series, backoff = events.events[0], events.events[1]
    assert (series.count, series.type) == (12, "Warning")
    assert (backoff.count, backoff.message) == (7, "Back-off restarting failed container")
    assert events.provenance.query == "GET /api/v1/namespaces/shop/events"

    # With no workload named by the alert, every event of the namespace in the window counts.
    unfocused = by_id(await backend.cluster_state(scope()), "events")
    assert len(unfocused.events) == 8  # all of shop's in the window, cart's routine ones too


async def test_namespace_scoping_and_the_cluster_wide_cap(
    cluster: Cluster, backend: KubernetesBackend
) -> None:
    checkout(cluster)
    payments = deployment("ledger", namespace="payments")
    cluster.add(
        payments,
        replicaset(payments, 1, "1e1e1", namespace="payments", minutes_ago=5,
                   containers=[container("ledger", "pay/ledger:1")]),
        pod("ledger-1e1e1-aaaaa", None, namespace="payments"),
        pod("checkout-7b2e4-aaaaa", None),
        node("node-a"),
    )  # fmt: skip

    shop = await backend.cluster_state(scope("shop"))
    assert {d.namespace for d in by_id(shop, "deployments").deployments} == {"shop"}
    assert {p.namespace for p in by_id(shop, "pods").pods} == {"shop"}
    # ledger's rollout is another namespace's
    assert [c.object for c in by_id(shop, "changes").changes] == ["deployment/shop/checkout"]
    assert by_id(shop, "nodes").provenance.query == "GET /api/v1/nodes?limit=500"

    everywhere = await backend.cluster_state(scope(None))
    assert {d.namespace for d in by_id(everywhere, "deployments").deployments} == {
        "shop",
        "payments",
    }
    assert [c.object for c in by_id(everywhere, "changes").changes] == [
        "deployment/payments/ledger",
        "deployment/shop/checkout",
    ]
    assert by_id(everywhere, "pods").provenance.query == (
        "GET /api/v1/pods?limit=500; GET /apis/apps/v1/replicasets?limit=500"
    )
    assert "GET /api/v1/pods?limit=500" in cluster.paths()

    # The emulator ignores `limit`, as an old server may: the client caps the answer itself.
    cluster.add(*(pod(f"filler-{i:03}", None, namespace="load") for i in range(510)))
    client = KubernetesClient(backend.settings)
    try:
        listing = await client.pods(None)
    finally:
        client.close()
    assert len(listing.items) == CLUSTER_WIDE_LIMIT
    assert listing.truncated


async def test_nodes_with_conditions_the_workloads_first(
    cluster: Cluster, backend: KubernetesBackend
) -> None:
    objs = checkout(cluster)
    cluster.add(
        node("node-a"),
        node("node-b", DiskPressure=True),
        node("node-c", ready=False),
        node("node-d"),
        pod("checkout-7b2e4-aaaaa", objs["rs"], node="node-d"),
    )

    items = await backend.cluster_state(scope(labels={"service": "checkout"}))

    nodes = by_id(items, "nodes").nodes
    assert [n.name for n in nodes] == ["node-d", "node-b", "node-c", "node-a"]
    ready = nodes[2].condition("Ready")
    assert (ready.status, ready.reason) == ("Unknown", "NodeStatusUnknown")
    assert nodes[1].condition("DiskPressure").status == "True"
    assert by_id(items, "nodes").provenance.query == "GET /api/v1/nodes?limit=500"
