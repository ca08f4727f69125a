"""Debian's Alertmanager with one route: every alert to firstline's Alertmanager webhook
(docs/intake.md), grouped as firstline scopes incidents (alertname, namespace, service)."""

from __future__ import annotations

from typing import Any

import yaml

from firstline.lab.processes import http_ok, require_binary
from firstline.lab.supervisor import LabProcess, Supervisor
from firstline.lab.topology import HOST, Topology

WEBHOOK_PATH = "/webhooks/alertmanager"
RECEIVER = "firstline"


def alertmanager_config(topology: Topology, webhook_token: str | None = None) -> dict[str, Any]:
    webhook: dict[str, Any] = {
        "url": topology.url("firstline") + WEBHOOK_PATH,
        "send_resolved": True,
    }
    if webhook_token is not None:  # firstline serve's auth.bearer_tokens
        webhook["http_config"] = {"authorization": {"type": "Bearer", "credentials": webhook_token}}
    return {
        "route": {
            "receiver": RECEIVER,
            "group_by": ["alertname", "namespace", "service"],
            "group_wait": "2s",
            "group_interval": "10s",
            "repeat_interval": "1h",
        },
        "receivers": [{"name": RECEIVER, "webhook_configs": [webhook]}],
    }


def start_alertmanager(
    topology: Topology, supervisor: Supervisor, *, webhook_token: str | None = None
) -> LabProcess:
    port = topology.ports.alertmanager
    data = topology.data_dir / "alertmanager"
    data.mkdir(parents=True, exist_ok=True)
    config = topology.config_dir / "alertmanager.yml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.touch(mode=0o600)
    config.chmod(0o600)  # it may hold the webhook's bearer token
    config.write_text(yaml.safe_dump(alertmanager_config(topology, webhook_token), sort_keys=False))
    argv = [
        require_binary("prometheus-alertmanager"),
        f"--config.file={config}",
        f"--storage.path={data}",
        f"--web.listen-address={HOST}:{port}",
        f"--web.external-url={topology.url('alertmanager')}",
        "--cluster.listen-address=",  # one instance: no gossip port on 0.0.0.0:9094
    ]
    return supervisor.start(
        "alertmanager", argv, ready=http_ok(f"{topology.url('alertmanager')}/-/ready")
    )
