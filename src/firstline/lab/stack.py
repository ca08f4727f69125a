"""Bring the whole lab up in order, and down again: certificates and the lab volume,
monitoring and the data tier, the emulated cluster with the shop's pods, the upstream, the
load, and `firstline serve` itself. Every process is started by the supervisor, which
records it, so `lab stop` (from any later command) stops exactly what `lab up` started."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from firstline.lab import deployments, firstline_config
from firstline.lab.processes import LabError, http_ok
from firstline.lab.supervisor import Supervisor
from firstline.lab.topology import TOPOLOGY_FILE, Ports, Topology

Progress = Callable[[str], None]
VOLUME_MB = 64
KUBECONFIG = "kubeconfig"
ROLLOUT_SECONDS = 120.0
READY_FILE = "ready.json"
WARM_UP_SECONDS = 120.0
"""How long the shop serves before a fault: the detectors need a baseline to see a change
against, as they have in any production that has run for a while."""


def is_up(lab_dir: Path) -> bool:
    if not (lab_dir / TOPOLOGY_FILE).exists():
        return False
    status = Supervisor(Topology.load(lab_dir)).status()
    return bool(status) and all(p.alive for p in status)


def up(lab_dir: Path, progress: Progress) -> Topology:
    """Start everything; on any failure stop what was started and raise."""
    topology = Topology(lab_dir=lab_dir.resolve(), ports=Ports.allocate())
    topology.save()
    supervisor = Supervisor(topology)
    try:
        _start(topology, supervisor, progress)
    except BaseException:
        progress("start failed: stopping what was started")
        _stop(topology, supervisor)
        raise
    return topology


def _start(topology: Topology, supervisor: Supervisor, progress: Progress) -> None:
    from firstline.lab import monitoring
    from firstline.lab.shop import certs, runbooks, volume

    tokens = firstline_config.lab_secrets(topology)
    progress("certificates, runbooks and the lab volume")
    certs.issue(topology.certs_dir, days=90)
    runbooks.install_runbooks(topology)
    if (reason := volume.mount_volume(topology.volume_dir, VOLUME_MB)) is not None:
        raise LabError(f"the lab volume cannot be mounted: {reason}")
    progress("PostgreSQL, Redis, the exporters, Alertmanager, Prometheus and Loki")
    monitoring.start_monitoring(topology, supervisor, webhook_token=tokens["webhook_token"])
    progress("the emulated Kubernetes API and the lab controller")
    _start_cluster(topology, supervisor)
    progress("the shop's Deployments")
    _roll_out_shop(topology)
    shop = [sys.executable, "-m", "firstline.lab.shop"]
    payments = {"PORT": str(topology.ports.payments),
                "LAB_ADMIN_PORT": str(topology.ports.payments_admin)}  # fmt: skip
    supervisor.start("payments", [*shop, "payments"], env=payments,
                     ready=http_ok(topology.url("payments") + "/healthz"))  # fmt: skip
    supervisor.start("loadgen", [*shop, "loadgen"], env=_load_env(topology))
    progress("firstline serve")
    config = firstline_config.write(topology)
    supervisor.start(
        "firstline",
        [sys.executable, "-m", "firstline", "-c", str(config), "serve"],
        ready=http_ok(topology.url("firstline") + "/readyz"),
        timeout=120,
    )
    (topology.lab_dir / READY_FILE).write_text(json.dumps({"ready_at": time.time()}))


def warm_up(lab_dir: Path, progress: Progress) -> None:
    """Wait until the shop has served for WARM_UP_SECONDS since the lab came up."""
    ready = json.loads((lab_dir / READY_FILE).read_text())["ready_at"]
    left = ready + WARM_UP_SECONDS - time.time()
    if left > 0:
        progress(f"letting the shop serve {left:.0f}s more for a baseline")
        time.sleep(left)


def _start_cluster(topology: Topology, supervisor: Supervisor) -> None:
    from firstline.lab.cluster.api import write_kubeconfig

    argv = [
        sys.executable, "-m", "firstline.lab.cluster",
        "--api-port", str(topology.ports.kube_api),
        "--metrics-port", str(topology.ports.kube_metrics),
        "--state-dir", str(topology.data_dir / "cluster"),
        "--namespace", topology.namespace,
    ]  # fmt: skip
    supervisor.start("cluster", argv, ready=http_ok(topology.url("kube_metrics") + "/sd"))
    write_kubeconfig(topology.config_dir / KUBECONFIG, topology.url("kube_api"))


def _roll_out_shop(topology: Topology) -> None:
    """Apply the shop's Deployments as kubectl would, and wait until each has its pod."""
    from kubernetes import client

    from firstline.lab.cluster.seed import api_client, seed

    shop = deployments.shop(topology)
    seed(topology.url("kube_api"), shop)
    api = api_client(topology.url("kube_api"))
    apps = client.AppsV1Api(api)
    waiting = {d["metadata"]["name"] for d in shop}
    deadline = time.monotonic() + ROLLOUT_SECONDS
    try:
        while waiting and time.monotonic() < deadline:
            for name in sorted(waiting):
                status = apps.read_namespaced_deployment(name, topology.namespace).status
                if status is not None and (status.available_replicas or 0) >= 1:
                    waiting.discard(name)
            time.sleep(0.5)
    finally:
        api.close()  # type: ignore[no-untyped-call]
    if waiting:
        raise LabError(f"no ready pod after {ROLLOUT_SECONDS:.0f}s: {', '.join(sorted(waiting))}"
                       " (see the pod logs under data/cluster)")  # fmt: skip


def _load_env(topology: Topology) -> dict[str, str]:
    return {
        "LAB_STOREFRONT_URL": topology.url("storefront"),
        "LAB_CHECKOUT_URL": topology.url("checkout"),
        "LAB_ORDERS_URL": topology.url("orders"),
        "LAB_CATALOG_URL": topology.url("catalog"),
    }


def _stop(topology: Topology, supervisor: Supervisor) -> None:
    from firstline.lab.monitoring.postgres import discard_postgres_data
    from firstline.lab.shop import volume

    supervisor.stop_all()
    volume.unmount_volume(topology.volume_dir)
    discard_postgres_data(topology)


def down(lab_dir: Path, progress: Progress) -> int:
    """Stop every recorded process that still runs; how many. Harmless when none does."""
    if not (lab_dir / TOPOLOGY_FILE).exists():
        return 0
    topology = Topology.load(lab_dir)
    supervisor = Supervisor(topology)
    running = sum(p.alive for p in supervisor.status())
    _stop(topology, supervisor)
    progress(f"stopped {running} process(es)")
    return running
