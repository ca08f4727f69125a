"""The executor against kmock's emulator (a stand-in API server; see emulator.py for what
it adds and why), through a real kubeconfig and the official client."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kmock import Server

from firstline.actions.kubernetes.executor import KubernetesExecutor
from firstline.actions.kubernetes.settings import KubernetesActionSettings
from tests.integration.actions.kubernetes.builders import RESOURCE_OF_KIND
from tests.integration.actions.kubernetes.emulator import ApiServerEmulator, Authorizer, allow_all
from tests.integration.kubernetes.conftest import write_kubeconfig
from tests.integration.kubernetes.objects import NOW, Obj

_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class Cluster:
    def __init__(self, emulator: ApiServerEmulator) -> None:
        self.emulator = emulator
        self.url = str(emulator.url).rstrip("/")

    @staticmethod
    def _key(kind: str, name: str, namespace: str | None) -> tuple[str, str | None, str]:
        resource, namespaced = RESOURCE_OF_KIND[kind]
        return resource, namespace if namespaced else None, name

    def add(self, *objects: Obj) -> None:
        for obj in objects:
            meta = obj["metadata"]
            key = self._key(obj["kind"], meta["name"], meta.get("namespace"))
            self.emulator.objects[key] = copy.deepcopy(obj)

    def get(self, kind: str, name: str, namespace: str | None = "shop") -> Obj | None:
        """The stored object as the emulator now holds it (None once deleted)."""
        try:  # the array parses a string resource on indexing, not on `in`
            stored = self.emulator.objects[self._key(kind, name, namespace)]
        except KeyError:
            return None
        return None if stored.deleted else copy.deepcopy(dict(stored.raw))

    def snapshot(self) -> dict[Any, Any]:
        return {
            key: copy.deepcopy(obj.raw)
            for key, obj in self.emulator.objects.items()
            if not obj.deleted
        }

    def writes(self) -> list[tuple[str, str, str, str | None]]:
        return [r for r in self.emulator.seen if r[0] in {"patch", "delete", "update"}]


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"honour_dry_run": True, "authorizer": allow_all}


@pytest.fixture
async def cluster(
    emulator_options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Cluster]:
    for name in _PROXY_VARIABLES:  # the client honours proxy variables; loopback must not
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    async with ApiServerEmulator() as emulator, Server(emulator):
        emulator.setup(**emulator_options)
        yield Cluster(emulator)


@pytest.fixture
def kubeconfig(tmp_path: Path, cluster: Cluster) -> Path:
    return write_kubeconfig(tmp_path / "kubeconfig", cluster.url)


MakeExecutor = Callable[..., KubernetesExecutor]


@pytest.fixture
def make_executor(kubeconfig: Path) -> Iterator[MakeExecutor]:
    """A fresh executor (as a fresh process would build it) per call."""
    made: list[KubernetesExecutor] = []

    def make(**overrides: Any) -> KubernetesExecutor:
        options: dict[str, Any] = {
            "enabled": True,
            "kubeconfig": kubeconfig,
            "context": "emulated",
            "timeout_seconds": 5.0,
            "certificate_wait_seconds": 5.0,
            "certificate_secrets": ("web-tls",),  # the TLS Secret of the cases' Certificate
            "poll_interval_seconds": 0.05,
            **overrides,
        }
        executor = KubernetesExecutor(KubernetesActionSettings(**options), now=lambda: NOW)
        made.append(executor)
        return executor

    yield make
    for executor in made:
        executor.close()


def authorizer_denying(verb: str, resource: str) -> Authorizer:
    def decide(attributes: dict[str, Any]) -> bool:
        return not (attributes.get("verb") == verb and attributes.get("resource") == resource)

    return decide
