"""Bring the whole lab up in order, and down again: monitoring, the data tier, the emulated
cluster with the shop's pods, the upstream, the load, and `firstline serve` itself. Every
process is started by the supervisor, which records it, so `lab stop` (from any later
command) stops exactly what `lab up` started and nothing else."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from firstline.lab import deployments, firstline_config
from firstline.lab.supervisor import Supervisor
from firstline.lab.topology import TOPOLOGY_FILE, Ports, Topology

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Lab:
    topology: Topology
    supervisor: Supervisor


def is_up(lab_dir: Path) -> bool:
    if not (lab_dir / TOPOLOGY_FILE).exists():
        return False
    status = Supervisor(Topology.load(lab_dir)).status()
    return bool(status) and all(p.alive for p in status)


def up(lab_dir: Path, progress: Progress) -> Lab:
    """Start everything; on any failure stop what was started and raise."""
    topology = Topology(lab_dir=lab_dir.resolve(), ports=Ports.allocate())
    topology.save()
    supervisor = Supervisor(topology)
    try:
        _start(topology, supervisor, progress)
    except BaseException:
        progress("start failed: stopping what was started")
        supervisor.stop_all()
        raise
    return Lab(topology, supervisor)


def _start(topology: Topology, supervisor: Supervisor, progress: Progress) -> None:
    from firstline.lab import cluster, monitoring
    from firstline.lab.shop import certs, runbooks, volume

    tokens = firstline_config.lab_secrets(topology)
    progress("certificates and the lab volume")
    certs.install_lab_ca(topology.certs_dir)
    certs.install_storefront(topology.certs_dir, days=90)
    mounted = volume.mount_volume(topology.volume_dir, size_mb=64)
    if mounted is not None:
        progress(f"lab volume: {mounted}")
    runbooks.install_runbooks(topology)
    progress("monitoring: PostgreSQL, Redis, exporters, Prometheus, Alertmanager, Loki")
    monitoring.start_monitoring(topology, supervisor, webhook_token=tokens["webhook_token"])
    progress("the emulated cluster and its controller")
    cluster.start_cluster(topology, supervisor)
    progress("the shop's Deployments")
    cluster.apply(topology, deployments.shop(topology))
    cluster.wait_ready(topology, [d["metadata"]["name"] for d in deployments.shop(topology)])
    shop = [sys.executable, "-m", "firstline.lab.shop"]
    env = {"PORT": str(topology.ports.payments)}
    supervisor.start("payments", [*shop, "payments"], env=env, ready=_ok(topology, "payments"))
    supervisor.start("loadgen", [*shop, "loadgen"], env=_load_env(topology))
    progress("firstline serve")
    config = firstline_config.write(topology)
    supervisor.start(
        "firstline",
        [sys.executable, "-m", "firstline", "-c", str(config), "serve"],
        ready=_ok(topology, "firstline", "/readyz"),
        timeout=120,
    )


def _ok(topology: Topology, part: str, path: str = "/healthz") -> Callable[[], bool]:
    from firstline.lab.supervisor import http_ok

    return http_ok(topology.url(part) + path)


def _load_env(topology: Topology) -> dict[str, str]:
    return {
        "LAB_STOREFRONT_URL": topology.url("storefront"),
        "LAB_CHECKOUT_URL": topology.url("checkout"),
        "LAB_ORDERS_URL": topology.url("orders"),
        "LAB_CATALOG_URL": topology.url("catalog"),
    }


def down(lab_dir: Path, progress: Progress) -> int:
    """Stop every recorded process; the number stopped. Harmless when nothing runs."""
    if not (lab_dir / TOPOLOGY_FILE).exists():
        return 0
    topology = Topology.load(lab_dir)
    stopped = Supervisor(topology).stop_all()
    from firstline.lab.shop import volume

    volume.unmount_volume(topology.volume_dir)
    progress(f"stopped {stopped} process(es)")
    return stopped
