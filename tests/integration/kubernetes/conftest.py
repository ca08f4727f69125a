"""kmock's KubernetesEmulator stands in for a real API server.

No kube-apiserver can run on the machines this suite runs on (no container engine, nothing
packaged), so these tests serve the objects from kmock's emulator: a stateful Kubernetes API
over real HTTP on a loopback port, which the official `kubernetes` client talks to through a
real kubeconfig, exactly as it would to a cluster. What the emulator does not do, the tests
account for: it runs no controllers (the tests write ReplicaSets, pods and events
themselves), and it ignores label and field selectors (firstline filters on its own side,
and the tests include objects a server-side selector would have dropped).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from kmock import KubernetesEmulator

from firstline.domain.alert import Alert
from firstline.domain.evidence import Evidence
from firstline.domain.query import QueryScope
from firstline.sources.kubernetes import KubernetesBackend
from firstline.sources.settings import KubernetesSettings
from tests.integration.kubernetes.objects import ALERT_AT, NOW

RESOURCES = {
    "Deployment": ("apps/v1/deployments", True),
    "ReplicaSet": ("apps/v1/replicasets", True),
    "Pod": ("v1/pods", True),
    "Event": ("v1/events", True),
    "Node": ("v1/nodes", False),
}
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class Cluster:
    """The emulator plus a way to load objects into it."""

    def __init__(self, emulator: KubernetesEmulator) -> None:
        self.emulator = emulator
        self.url = str(emulator.url).rstrip("/")

    def add(self, *objects: dict[str, Any]) -> None:
        for obj in objects:
            resource, namespaced = RESOURCES[obj["kind"]]
            meta = obj["metadata"]
            namespace = meta.get("namespace") if namespaced else None
            self.emulator.objects[resource, namespace, meta["name"]] = obj

    def paths(self) -> list[str]:
        """Every request the emulator served, as 'GET /path?query'."""
        return [f"{r.method.value.upper()} {r.url.path_qs}" for r in self.emulator]


@pytest.fixture
async def cluster(
    kmock: KubernetesEmulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Cluster]:
    """kmock's own pytest fixture runs the emulator inside its async context (outside it,
    errors come back as plain 500s) on a free loopback port, and stops it afterwards."""
    for name in _PROXY_VARIABLES:  # the client honours proxy variables; loopback must not
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    for kind, (resource, namespaced) in RESOURCES.items():
        info = kmock.resources[resource]
        info.kind, info.namespaced = kind, namespaced
    yield Cluster(kmock)


def write_kubeconfig(path: Path, server: str, token: str = "test-token") -> Path:
    """Two contexts; the current one points at nothing, so a test that reaches the emulator
    proves the configured context was used."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "emulated", "cluster": {"server": server}},
            {"name": "nowhere", "cluster": {"server": "http://127.0.0.1:9"}},
        ],
        "users": [{"name": "reader", "user": {"token": token}}],
        "contexts": [
            {"name": "emulated", "context": {"cluster": "emulated", "user": "reader"}},
            {"name": "other", "context": {"cluster": "nowhere", "user": "reader"}},
        ],
        "current-context": "other",
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def kubeconfig(tmp_path: Path, cluster: Cluster) -> Path:
    return write_kubeconfig(tmp_path / "kubeconfig", cluster.url)


@pytest.fixture
def settings(kubeconfig: Path) -> KubernetesSettings:
    return KubernetesSettings(
        enabled=True, kubeconfig=kubeconfig, context="emulated", timeout_seconds=2.0
    )


@pytest.fixture
def backend(settings: KubernetesSettings) -> Iterator[KubernetesBackend]:
    made = KubernetesBackend(settings)
    yield made
    made.close()


def scope(
    namespace: str | None = "shop",
    labels: dict[str, str] | None = None,
    window_minutes: float = 60,
) -> QueryScope:
    alert_labels = {"alertname": "HighErrorRate", **(labels or {})}
    if namespace:
        alert_labels["namespace"] = namespace
    alert = Alert(
        source="alertmanager",
        name="HighErrorRate",
        labels=alert_labels,
        starts_at=ALERT_AT,
        fingerprint="f00d",
    )
    return QueryScope(
        alert=alert,
        namespace=namespace,
        service=alert.service,
        start=NOW - timedelta(minutes=window_minutes),
        end=NOW,
    )


def by_id(items: list[Evidence], ref: str) -> Any:
    """The item with that id (typed Any: each test knows which kind it asked for)."""
    found = [i for i in items if i.id == ref]
    assert len(found) == 1, [i.id for i in items]
    return found[0]
