"""Fixtures of the lab's parts as real processes: the shop's services (`python -m
firstline.lab.shop SERVICE`) against the suite's real PostgreSQL, a Redis configured as the
lab's (32 MB, noeviction) and the suite's qryn; and the lab cluster
(`python -m firstline.lab.cluster`) running the tiny programs of standin.py as its images,
with an official client talking to it over HTTP."""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import kubernetes.client
import psycopg
import pytest
import redis

from firstline.lab.cluster.api import write_kubeconfig
from firstline.lab.cluster.seed import api_client
from tests.integration.lab.shop import ShopProcesses
from tests.services.postgres import PostgresCluster
from tests.services.process import Service, free_port, http_ok
from tests.services.redis import start_redis
from tests.services.replicas import wait_until

_DATABASES = itertools.count(1)
LAB_MAXMEMORY = "32mb"
SHOP_ROLE = "lab_shop"


@pytest.fixture(scope="session")
def lab_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    service, url = start_redis(tmp_path_factory.mktemp("lab-redis"))
    client = redis.Redis.from_url(url)
    client.config_set("maxmemory", LAB_MAXMEMORY)
    client.config_set("maxmemory-policy", "noeviction")
    client.close()
    try:
        yield url
    finally:
        service.stop()


@pytest.fixture(scope="module")
def shop_dsn(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """A fresh database for the shop of one test module, owned by and connected as an
    ordinary role: firstline never terminates a superuser's sessions, so the shop, as in
    any real production, is not one."""
    name = f"shop_{next(_DATABASES)}"
    with psycopg.connect(postgres_cluster.dsn(), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (SHOP_ROLE,)).fetchone():
            admin.execute(f"CREATE ROLE {SHOP_ROLE} LOGIN")
        admin.execute(f"CREATE DATABASE {name} OWNER {SHOP_ROLE}")
    try:
        yield postgres_cluster.dsn(user=SHOP_ROLE, dbname=name)
    finally:
        with psycopg.connect(postgres_cluster.dsn(), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def shop_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopProcesses]:
    processes = ShopProcesses(Path(tmp_path_factory.mktemp("shop-logs")), sys.executable)
    try:
        yield processes
    finally:
        processes.stop_all()


@pytest.fixture
def redis_client(lab_redis: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(lab_redis, decode_responses=True)
    try:
        yield client
    finally:
        client.close()


STANDIN = Path(__file__).with_name("standin.py")
Obj = dict[str, Any]
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class LabCluster:
    def __init__(self, work: Path) -> None:
        self.api_port, self.metrics_port = free_port(), free_port()
        self.state_dir = work / "state"
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.metrics_url = f"http://127.0.0.1:{self.metrics_port}"
        argv = [
            sys.executable, "-m", "firstline.lab.cluster",
            "--api-port", str(self.api_port), "--metrics-port", str(self.metrics_port),
            "--state-dir", str(self.state_dir),
            "--image-command", f"standin/={sys.executable} {STANDIN}",
            "--interval", "0.25",  # quicker ticks: the tests wait on them
        ]  # fmt: skip
        self.service = Service("lab-cluster", argv, work, http_ok(f"{self.metrics_url}/sd"))
        self.kubeconfig = write_kubeconfig(work / "kubeconfig", self.url)
        self.client = api_client(self.url)
        self.core = kubernetes.client.CoreV1Api(self.client)
        self.apps = kubernetes.client.AppsV1Api(self.client)

    def start(self) -> LabCluster:
        self.service.start(timeout=30)
        return self

    def stop(self) -> None:
        self.client.close()
        self.service.stop()

    def pods(self, app: str) -> list[Obj]:
        raw = self.core.list_namespaced_pod("shop", _preload_content=False)
        items = json.loads(raw.data)["items"]
        return [p for p in items if p["metadata"]["labels"].get("app") == app]

    def replicasets(self, app: str) -> list[Obj]:
        raw = self.apps.list_namespaced_replica_set("shop", _preload_content=False)
        items = json.loads(raw.data)["items"]
        return [r for r in items if r["metadata"]["labels"].get("app") == app]

    def deployment(self, name: str) -> Obj:
        raw = self.apps.read_namespaced_deployment(name, "shop", _preload_content=False)
        return dict(json.loads(raw.data))

    def events(self, involving: str) -> list[Obj]:
        raw = self.core.list_namespaced_event("shop", _preload_content=False)
        return [
            e for e in json.loads(raw.data)["items"] if e["involvedObject"]["name"] == involving
        ]

    def running_pod(self, app: str, image: str | None = None) -> Obj | None:
        """The one ready pod of the app (of that image), once it is the only pod left."""
        pods = self.pods(app)
        if len(pods) != 1:
            return None
        (pod,) = pods
        (status,) = pod["status"].get("containerStatuses") or [{}]
        if not status.get("ready") or (image and status.get("image") != image):
            return None
        return pod

    def metrics(self) -> str:
        return httpx.get(f"{self.metrics_url}/metrics", timeout=5).text

    def set_image(self, name: str, image: str, change_cause: str | None = None) -> None:
        """As `kubectl set image` does: a strategic merge patch naming only the container."""
        container = {"name": name, "image": image}
        body: Obj = {"spec": {"template": {"spec": {"containers": [container]}}}}
        if change_cause:
            body["metadata"] = {"annotations": {"kubernetes.io/change-cause": change_cause}}
        self.apps.patch_namespaced_deployment(
            name, "shop", body, _content_type="application/strategic-merge-patch+json"
        )

    def patch_deployment(self, name: str, body: Obj) -> None:
        self.apps.patch_namespaced_deployment(
            name, "shop", body, _content_type="application/merge-patch+json"
        )


def pid_of(pod: Obj) -> int:
    (status,) = pod["status"]["containerStatuses"]
    return int(status["containerID"].removeprefix("lab://"))


def alive(pid: int) -> bool:
    """Running, not merely a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def eventually(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    return wait_until(check, what, timeout, every=0.2)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _PROXY_VARIABLES:  # the client honours proxy variables; loopback must not
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabCluster]:
    """One cluster per module: each test uses Deployments of its own names."""
    cluster = LabCluster(tmp_path_factory.mktemp("lab-cluster")).start()
    try:
        yield cluster
    finally:
        cluster.stop()
