"""The lab's monitoring as people run it, each part a real process under the lab's
supervisor, configured from the Topology (config in `config_dir`, data in `data_dir/<part>`,
listening on 127.0.0.1 only): PostgreSQL and Redis (the shop's data tier, here because the
exporters watch them), the four Debian exporters, qryn as the Loki API, Alertmanager routing
to `firstline serve`, and Prometheus with the lab's alerting rules (rules/*.yaml)."""

from __future__ import annotations

from dataclasses import dataclass

from firstline.lab.monitoring.alertmanager import start_alertmanager
from firstline.lab.monitoring.exporters import (
    start_blackbox_exporter,
    start_node_exporter,
    start_postgres_exporter,
    start_redis_exporter,
)
from firstline.lab.monitoring.loki import (
    CLICKHOUSE,
    QRYN,
    launch_clickhouse,
    launch_qryn,
    qryn_entry,
)
from firstline.lab.monitoring.postgres import (
    discard_postgres_data,
    role_dsn,
    role_dsns,
    start_postgres,
)
from firstline.lab.monitoring.prometheus import start_prometheus
from firstline.lab.monitoring.redis import redis_url, start_redis
from firstline.lab.supervisor import Supervisor
from firstline.lab.topology import Topology

__all__ = [
    "Monitoring",
    "discard_postgres_data",
    "redis_url",
    "role_dsn",
    "role_dsns",
    "start_monitoring",
]


@dataclass(frozen=True)
class Monitoring:
    prometheus_url: str
    alertmanager_url: str
    loki_url: str
    redis_url: str
    postgres_dsns: dict[str, str]  # role -> DSN: shop, firstline, exporter


def start_monitoring(
    topology: Topology, supervisor: Supervisor, *, webhook_token: str | None = None
) -> Monitoring:
    """Start every part, each once the ones it watches or talks to are ready: the data tier,
    its exporters, Alertmanager, then Prometheus (whose first evaluations then find
    everything to scrape and somewhere to send), with the Loki API booting beside them;
    return when all are ready. A part that fails stops the ones this call started and
    raises its LabError. `webhook_token` is the bearer token firstline's Alertmanager
    webhook requires (serve.auth.bearer_tokens), if any."""
    qryn_entry()  # not installed: say so before starting anything
    before = {p.name for p in supervisor.processes()}
    try:
        # the Loki API is by far the slowest to boot (chdb, then qryn's schema: ~15 s on a
        # busy 2-core machine): it boots beside the others, each of its two steps awaited
        # only once the parts that do not need it are started
        clickhouse_ready = launch_clickhouse(topology, supervisor)
        start_postgres(topology, supervisor)
        supervisor.await_ready(CLICKHOUSE, clickhouse_ready)
        qryn_ready = launch_qryn(topology, supervisor)
        start_redis(topology, supervisor)
        start_node_exporter(topology, supervisor)
        start_postgres_exporter(topology, supervisor)
        start_redis_exporter(topology, supervisor)
        start_blackbox_exporter(topology, supervisor)
        start_alertmanager(topology, supervisor, webhook_token=webhook_token)
        start_prometheus(topology, supervisor)
        supervisor.await_ready(QRYN, qryn_ready)
    except BaseException:
        for process in reversed(supervisor.processes()):
            if process.name not in before:
                supervisor.stop(process.name)
        raise
    return Monitoring(
        prometheus_url=topology.url("prometheus"),
        alertmanager_url=topology.url("alertmanager"),
        loki_url=topology.url("loki"),
        redis_url=redis_url(topology),
        postgres_dsns=role_dsns(topology),
    )
