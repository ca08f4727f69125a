"""End to end against a real cluster, when there is one.

Everything else in this folder runs against kmock's emulator, because no API server can
run on the build machines. This test is the check that the same code reads a real cluster:
it runs when KUBECONFIG points at a readable kubeconfig and is reported as skipped, with
the reason, otherwise. It only reads (get/list), in kube-system, which every cluster has.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from firstline.domain.evidence import EvidenceStatus
from firstline.sources.kubernetes import KubernetesBackend
from firstline.sources.kubernetes.adapter import ITEM_IDS
from firstline.sources.settings import KubernetesSettings
from tests.integration.kubernetes.conftest import scope


def _real_kubeconfig() -> Path:
    value = os.environ.get("KUBECONFIG", "")
    if not value:
        pytest.skip("KUBECONFIG is not set, so there is no real cluster to read")
    first = Path(value.split(os.pathsep)[0]).expanduser()
    if not first.is_file() or not os.access(first, os.R_OK):
        pytest.skip(f"KUBECONFIG={value} is not a readable file")
    return first


async def test_reads_a_real_cluster() -> None:
    path = _real_kubeconfig()
    settings = KubernetesSettings(enabled=True, kubeconfig=path, timeout_seconds=15)
    backend = KubernetesBackend(settings)
    try:
        described = await backend.probe()
        items = await backend.cluster_state(scope("kube-system"))
    finally:
        backend.close()

    assert described.startswith("Kubernetes ")
    assert [i.id for i in items] == list(ITEM_IDS)
    for item in items:
        assert item.provenance.source == "kubernetes"
        # Narrow RBAC may forbid some listings; that must read as an error with a reason.
        assert item.status == EvidenceStatus.OK or (item.status == "error" and item.reason)
    pods = next(i for i in items if i.id == "pods")
    if pods.status == EvidenceStatus.OK:
        assert pods.pods, "kube-system always runs something"
        assert all(p.namespace == "kube-system" for p in pods.pods)
    nodes = next(i for i in items if i.id == "nodes")
    if nodes.status == EvidenceStatus.OK:
        assert all(n.condition("Ready") is not None for n in nodes.nodes)
