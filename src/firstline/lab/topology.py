"""Where every part of the lab listens, chosen once at `firstline lab up` and saved beside the
lab's processes, so every later command (run, status, stop) and every part talks to the same
ports. All on loopback: the lab never listens on another interface."""

from __future__ import annotations

import json
import random
import socket
from dataclasses import asdict, dataclass, fields
from pathlib import Path

HOST = "127.0.0.1"
NAMESPACE = "shop"
TOPOLOGY_FILE = "topology.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_LAB_PORT = 10_000


def _ephemeral_start() -> int:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def lab_ports(count: int) -> list[int]:
    """`count` free ports below the kernel's ephemeral range. Every bind(0) on the machine
    (a test's server, a client's outgoing connection) draws from that range, so a port the
    lab picks there at `lab up` could be taken before its part binds it, a minute later;
    below it, only a fixed choice like the lab's own can collide."""
    top = _ephemeral_start()
    if top - LOWEST_LAB_PORT < count * 4:  # no room below it (or not Linux): the kernel picks
        return [free_port() for _ in range(count)]
    chosen: list[int] = []
    rng = random.Random()
    while len(chosen) < count:
        port = rng.randrange(LOWEST_LAB_PORT, top)
        if port not in chosen and _bindable(port):
            chosen.append(port)
    return chosen


@dataclass(frozen=True)
class Ports:
    """One loopback port per listening part of the lab."""

    # monitoring as people run it
    prometheus: int
    alertmanager: int
    loki: int  # qryn, a Loki-API server; the shop pushes its logs to /loki/api/v1/push
    loki_clickhouse: int  # the ClickHouse HTTP endpoint qryn stores into (chdb)
    node_exporter: int
    postgres_exporter: int
    redis_exporter: int
    blackbox_exporter: int
    # the data tier
    postgres: int
    redis: int
    # the emulated Kubernetes API (kmock) and the lab controller's kube-state-metrics,
    # cAdvisor-shaped metrics and Prometheus HTTP service discovery
    kube_api: int
    kube_metrics: int
    # the shop: one port per Deployment (its single pod listens there), the upstream that is
    # not in the cluster, and the storefront's TLS endpoint the blackbox exporter probes
    storefront: int
    storefront_tls: int
    checkout: int
    orders: int
    catalog: int
    order_events: int
    report_worker: int
    payments: int
    # firstline itself
    firstline: int
    # payments' admin API, which stays up while its service port refuses connections (the
    # `refuse` fault); last and defaulted so a Ports spelled out in full before it still works
    payments_admin: int = 0

    @classmethod
    def allocate(cls) -> Ports:
        names = [f.name for f in fields(cls)]
        return cls(**dict(zip(names, lab_ports(len(names)), strict=True)))


@dataclass(frozen=True)
class Topology:
    lab_dir: Path
    ports: Ports
    namespace: str = NAMESPACE

    def url(self, part: str, scheme: str = "http") -> str:
        return f"{scheme}://{HOST}:{getattr(self.ports, part)}"

    # directories inside the lab dir, each owned by one part
    @property
    def logs_dir(self) -> Path:
        return self.lab_dir / "logs"

    @property
    def data_dir(self) -> Path:
        return self.lab_dir / "data"

    @property
    def config_dir(self) -> Path:
        return self.lab_dir / "config"

    @property
    def certs_dir(self) -> Path:
        return self.lab_dir / "certs"

    @property
    def runbooks_dir(self) -> Path:
        return self.lab_dir / "runbooks"

    @property
    def volume_dir(self) -> Path:
        """The lab volume the disk fault fills: its own small tmpfs when the machine lets the
        lab mount one, so filling it can never fill the machine's disk."""
        return self.lab_dir / "volume"

    def save(self) -> Path:
        self.lab_dir.mkdir(parents=True, exist_ok=True)
        path = self.lab_dir / TOPOLOGY_FILE
        body = {"namespace": self.namespace, "ports": asdict(self.ports)}
        path.write_text(json.dumps(body, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, lab_dir: Path) -> Topology:
        body = json.loads((lab_dir / TOPOLOGY_FILE).read_text())
        return cls(lab_dir=lab_dir, ports=Ports(**body["ports"]), namespace=body["namespace"])
