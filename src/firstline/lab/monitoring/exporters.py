"""The four Debian exporters Prometheus scrapes, each on its loopback port (flags as their
Debian versions take them: node 1.5.0, postgres 0.11.1, redis 1.45.0, blackbox 0.23.0)."""

from __future__ import annotations

from firstline.lab.monitoring.postgres import role_dsn
from firstline.lab.monitoring.redis import redis_url
from firstline.lab.processes import http_ok, require_binary
from firstline.lab.supervisor import LabProcess, Supervisor
from firstline.lab.topology import HOST, Topology

# Only what the lab's alerts and firstline's evidence read: the host's filesystems (the lab
# volume among them), CPU, memory and load. The default set (~40 collectors) costs CPU on
# a 2-core machine for series nobody looks at.
NODE_COLLECTORS = ("filesystem", "cpu", "meminfo", "loadavg")

BLACKBOX_MODULES = """\
# http_2xx_tls trusts only the lab's CA: the storefront's certificate is issued by it, and
# a probe that accepted any certificate could not tell a broken chain from a good one.
modules:
  http_2xx:
    prober: http
    timeout: 4s
    http:
      preferred_ip_protocol: ip4
  http_2xx_tls:
    prober: http
    timeout: 4s
    http:
      preferred_ip_protocol: ip4
      fail_if_not_ssl: true
      tls_config:
        ca_file: {ca_file}
  tcp_connect:
    prober: tcp
    timeout: 4s
    tcp:
      preferred_ip_protocol: ip4
"""


def _listen(port: int) -> str:
    return f"--web.listen-address={HOST}:{port}"


def start_node_exporter(topology: Topology, supervisor: Supervisor) -> LabProcess:
    port = topology.ports.node_exporter
    argv = [
        require_binary("prometheus-node-exporter"),
        _listen(port),
        "--collector.disable-defaults",
        *(f"--collector.{name}" for name in NODE_COLLECTORS),
    ]
    return supervisor.start("node-exporter", argv, ready=http_ok(f"http://{HOST}:{port}/"))


def start_postgres_exporter(topology: Topology, supervisor: Supervisor) -> LabProcess:
    port = topology.ports.postgres_exporter
    return supervisor.start(
        "postgres-exporter",
        [require_binary("prometheus-postgres-exporter"), _listen(port)],
        env={"DATA_SOURCE_NAME": role_dsn(topology, "exporter")},
        ready=http_ok(f"http://{HOST}:{port}/"),
    )


def start_redis_exporter(topology: Topology, supervisor: Supervisor) -> LabProcess:
    port = topology.ports.redis_exporter
    argv = [
        require_binary("prometheus-redis-exporter"),
        "-redis.addr", redis_url(topology),
        "-web.listen-address", f"{HOST}:{port}",
    ]  # fmt: skip
    return supervisor.start("redis-exporter", argv, ready=http_ok(f"http://{HOST}:{port}/"))


def start_blackbox_exporter(topology: Topology, supervisor: Supervisor) -> LabProcess:
    port = topology.ports.blackbox_exporter
    config = topology.config_dir / "blackbox.yml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(BLACKBOX_MODULES.format(ca_file=topology.certs_dir / "ca.crt"))
    argv = [
        require_binary("prometheus-blackbox-exporter"),
        f"--config.file={config}",
        _listen(port),
    ]
    return supervisor.start(
        "blackbox-exporter", argv, ready=http_ok(f"http://{HOST}:{port}/-/healthy")
    )
