"""A cluster that refuses, breaks, stalls or is not there: every case becomes evidence with
status error and a reason, never an exception.

kmock stands in for a real API server (no kube-apiserver runs here; see conftest.py). Its
reactions let a test make one endpoint answer 403 or 500, stall, or send garbage, while the
rest of the emulated API keeps answering normally, which a real cluster cannot be made to
do on demand.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from firstline.cluster.settings import ClusterConfigError
from firstline.domain.evidence import Evidence, EvidenceStatus
from firstline.sources.base import ClusterBackend
from firstline.sources.errors import SourceBadResponse, SourceRejected, SourceUnavailable
from firstline.sources.kubernetes import KubernetesBackend, KubernetesClient
from firstline.sources.kubernetes.adapter import ITEM_IDS
from firstline.sources.settings import KubernetesSettings
from tests.integration.kubernetes.conftest import Cluster, by_id, scope, write_kubeconfig
from tests.integration.kubernetes.objects import container, deployment, node, pod, replicaset
from tests.services.process import free_port

DEPLOYMENTS = "/apis/apps/v1/namespaces/shop/deployments"
FORBIDDEN = (
    'deployments.apps is forbidden: User "system:serviceaccount:ops:firstline" cannot list '
    'resource "deployments" in API group "apps" in the namespace "shop"'
)


def populate(cluster: Cluster) -> None:
    dep = deployment("checkout")
    rs = replicaset(dep, 1, "1a2b3", minutes_ago=10,
                    containers=[container("checkout", "shop/checkout:1")])  # fmt: skip
    cluster.add(dep, rs, pod("checkout-1a2b3-aaaaa", rs), node("node-a"))


def statuses(items: list[Evidence]) -> dict[str, str]:
    return {i.id: i.status.value for i in items}


async def test_a_forbidden_listing_fails_only_the_items_that_need_it(
    cluster: Cluster, backend: KubernetesBackend
) -> None:
    populate(cluster)
    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden",
              "message": FORBIDDEN, "code": 403}  # fmt: skip
    cluster.emulator[f"get {DEPLOYMENTS}"] << 403 << status

    items = await backend.cluster_state(scope(labels={"service": "checkout"}))

    assert statuses(items) == {
        "deployments": "error",
        "pods": "ok",
        "events": "ok",
        "nodes": "ok",
        "changes": "error",
    }
    for ref in ("deployments", "changes"):
        failed = by_id(items, ref)
        assert failed.reason == f"403 Forbidden: {FORBIDDEN}"
        assert failed.provenance.query.startswith(f"GET {DEPLOYMENTS}; ")
    assert by_id(items, "pods").pods[0].owner == "checkout"  # from the ReplicaSets alone


async def test_server_errors_carry_the_servers_message(
    cluster: Cluster, backend: KubernetesBackend
) -> None:
    populate(cluster)
    cluster.emulator["get /api/v1/namespaces/shop/pods"] << 500 << {
        "kind": "Status", "code": 500, "message": "etcdserver: request timed out"
    }  # fmt: skip
    cluster.emulator["get /api/v1/nodes"] << 503 << b"upstream connect error\nor disconnect"

    items = await backend.cluster_state(scope())

    assert by_id(items, "pods").status == EvidenceStatus.ERROR
    assert by_id(items, "pods").reason == "500 Internal Server Error: etcdserver: request timed out"
    assert by_id(items, "nodes").reason == (
        "503 Service Unavailable: upstream connect error or disconnect"
    )
    assert by_id(items, "deployments").status == EvidenceStatus.OK


async def test_an_unreachable_api_server(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    config = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{port}")
    settings = KubernetesSettings(enabled=True, kubeconfig=config, context="emulated")
    backend = KubernetesBackend(settings)
    try:
        items = await backend.cluster_state(scope())
        with pytest.raises(SourceUnavailable, match="cannot connect"):
            await backend.probe()
    finally:
        backend.close()

    assert [i.id for i in items] == list(ITEM_IDS)
    for item in items:
        assert item.status == EvidenceStatus.ERROR
        assert item.reason.startswith(f"cannot connect to http://127.0.0.1:{port}: ")
        assert "Connection refused" in item.reason
        assert item.provenance.source == "kubernetes"


async def test_a_slow_server_is_cut_off_at_the_timeout(
    cluster: Cluster, settings: KubernetesSettings
) -> None:
    populate(cluster)
    release = asyncio.Event()

    async def stalled() -> dict[str, object]:
        await release.wait()  # set at the end, so the emulator can shut down at once
        return {"items": []}

    cluster.emulator[f"get {DEPLOYMENTS}"] << stalled
    backend = KubernetesBackend(settings.model_copy(update={"timeout_seconds": 0.5}))
    started = time.monotonic()
    try:
        items = await backend.cluster_state(scope())
    finally:
        release.set()
        backend.close()
    elapsed = time.monotonic() - started

    assert 0.5 <= elapsed < 2.0  # one attempt, no silent retries
    slow = by_id(items, "deployments")
    assert slow.status == EvidenceStatus.ERROR
    assert slow.reason == f"no answer within 0.5s to GET {DEPLOYMENTS}"
    assert by_id(items, "changes").reason == slow.reason
    assert by_id(items, "pods").status == EvidenceStatus.OK  # the others were not held up


async def test_a_malformed_answer(cluster: Cluster, backend: KubernetesBackend) -> None:
    populate(cluster)
    cluster.emulator["get /api/v1/namespaces/shop/events"] << {"items": "not a list"}
    cluster.emulator["get /api/v1/nodes"] << b"<html>login required</html>"

    items = await backend.cluster_state(scope())

    events, nodes = by_id(items, "events"), by_id(items, "nodes")
    assert events.status == nodes.status == EvidenceStatus.ERROR
    assert events.reason.startswith(
        "malformed answer to GET /api/v1/namespaces/shop/events: 1 invalid fields, first at items"
    )
    assert nodes.reason.startswith("malformed answer to GET /api/v1/nodes?limit=500: ")
    with pytest.raises(SourceBadResponse):
        client = KubernetesClient(backend.settings)
        try:
            await client.nodes()
        finally:
            client.close()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"kubeconfig": Path("/nonexistent/kubeconfig")}, "kubeconfig not found: /nonexistent/"),
        (
            {"context": "staging"},
            "kubeconfig: Invalid kube-config file. Expected object with name staging",
        ),
        ({"in_cluster": True}, "in-cluster config: Service host/port is not set."),
    ],
)
async def test_configuration_problems(
    settings: KubernetesSettings,
    monkeypatch: pytest.MonkeyPatch,
    change: dict[str, object],
    reason: str,
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    backend = KubernetesBackend(settings.model_copy(update=change))
    try:
        items = await backend.cluster_state(scope())
        with pytest.raises(SourceRejected) as raised:
            await backend.probe()
    finally:
        backend.close()
    # One configuration error for the source and the executor, carried as the cause of the
    # source's own "do not retry" failure.
    assert isinstance(raised.value.__cause__, ClusterConfigError)
    assert str(raised.value).startswith(reason)
    assert {i.status for i in items} == {EvidenceStatus.ERROR}
    assert all(i.reason and i.reason.startswith(reason) for i in items)


async def test_probe_says_what_answered(cluster: Cluster, backend: KubernetesBackend) -> None:
    assert isinstance(backend, ClusterBackend)
    # The emulator answers /version without the slash the client asks for: the probe falls
    # back to a listing, and says so.
    described = await backend.probe()
    assert described == (
        f"Kubernetes API at {cluster.url} (GET /version/ answered 404; listing works)"
    )
    cluster.emulator["get /version/"] << {"gitVersion": "v1.30.2", "major": "1", "minor": "30"}
    assert await backend.probe() == f"Kubernetes v1.30.2 at {cluster.url}"

    # Every request carried the kubeconfig's token and said who asked.
    requests = list(cluster.emulator)
    assert requests
    assert {r.headers.get("Authorization") for r in requests} == {"Bearer test-token"}
    assert {r.headers.get("User-Agent") for r in requests} == {"firstline"}
