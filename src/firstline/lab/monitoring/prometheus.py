"""Debian's Prometheus scraping the lab every 5 s: the exporters as static jobs named as
people name them, the blackbox probes through the usual `__param_target` relabelling, the
lab controller's kube-state-metrics- and cAdvisor-shaped series, and the shop's pods found
through HTTP service discovery (their labels carry namespace, service, pod, container).
It evaluates the lab's alerting rules (rules/*.yaml) every 5 s and sends to Alertmanager."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from firstline.lab.processes import http_ok, require_binary
from firstline.lab.supervisor import LabProcess, Supervisor
from firstline.lab.topology import HOST, Topology

RULES_DIR = Path(__file__).parent / "rules"
INTERVAL = "5s"
LAB_NODE = "lab-node"  # the lab controller's nodeName for every pod


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.yaml"))


def _address(topology: Topology, part: str) -> str:
    return f"{HOST}:{getattr(topology.ports, part)}"


def _static(
    job: str, topology: Topology, part: str, labels: dict[str, str], **extra: Any
) -> dict[str, Any]:
    return {
        "job_name": job,
        "static_configs": [{"targets": [_address(topology, part)], "labels": labels}],
        **extra,
    }


def _probe(target: str, module: str, service: str, topology: Topology) -> dict[str, Any]:
    return {
        "targets": [target],
        "labels": {"__param_module": module, "namespace": topology.namespace, "service": service},
    }


def _lab_volume_only(topology: Topology) -> list[dict[str, Any]]:
    """Of the host's filesystems, keep the lab volume's series: the lab's disk alert is about
    it, and the machine's own disks are not the lab's to page about."""
    volume = re.escape(str(topology.volume_dir))
    return [
        {"source_labels": ["mountpoint"], "regex": volume,
         "target_label": "__tmp_lab_volume", "replacement": "yes"},
        {"source_labels": ["__name__", "__tmp_lab_volume"], "regex": "node_filesystem_.+;",
         "action": "drop"},
        {"regex": "__tmp_lab_volume", "action": "labeldrop"},
    ]  # fmt: skip


def prometheus_config(topology: Topology) -> dict[str, Any]:
    namespace = topology.namespace
    kube_metrics = _address(topology, "kube_metrics")
    blackbox = {
        "job_name": "blackbox",
        "metrics_path": "/probe",
        "scrape_timeout": "5s",
        "static_configs": [
            _probe(f"{topology.url('storefront_tls', 'https')}/healthz", "http_2xx_tls", "storefront",
                   topology),
            _probe(f"{topology.url('payments')}/healthz", "http_2xx", "payments", topology),
        ],
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": _address(topology, "blackbox_exporter")},
        ],
    }  # fmt: skip
    return {
        "global": {"scrape_interval": INTERVAL, "evaluation_interval": INTERVAL,
                   "scrape_timeout": "4s"},
        "rule_files": [str(topology.config_dir / "rules" / path.name) for path in rule_files()],
        "alerting": {"alertmanagers": [
            {"static_configs": [{"targets": [_address(topology, "alertmanager")]}]}
        ]},
        "scrape_configs": [
            _static("prometheus", topology, "prometheus", {}),
            # the exporters' target labels say what each one watches, as a ServiceMonitor's
            # would in a cluster: every alert then names a namespace and a service to scope by
            _static("node", topology, "node_exporter",
                    {"namespace": namespace, "service": "node-exporter", "node": LAB_NODE},
                    metric_relabel_configs=_lab_volume_only(topology)),
            _static("postgres", topology, "postgres_exporter",
                    {"namespace": namespace, "service": "postgres"}),
            _static("redis", topology, "redis_exporter",
                    {"namespace": namespace, "service": "redis"}),
            blackbox,
            # its series carry their own namespace/pod/container labels: keep them as they are
            _static("kube-state-metrics", topology, "kube_metrics", {}, honor_labels=True),
            {"job_name": "shop", "http_sd_configs": [
                {"url": f"http://{kube_metrics}/sd", "refresh_interval": INTERVAL}
            ]},
        ],
    }  # fmt: skip


def start_prometheus(topology: Topology, supervisor: Supervisor) -> LabProcess:
    rules = topology.config_dir / "rules"
    rules.mkdir(parents=True, exist_ok=True)
    for path in rule_files():
        shutil.copyfile(path, rules / path.name)
    config = topology.config_dir / "prometheus.yml"
    config.write_text(yaml.safe_dump(prometheus_config(topology), sort_keys=False))
    url = topology.url("prometheus")
    argv = [
        require_binary("prometheus"),
        f"--config.file={config}",
        f"--storage.tsdb.path={topology.data_dir / 'prometheus'}",
        "--storage.tsdb.retention.time=2d",
        f"--web.listen-address={HOST}:{topology.ports.prometheus}",
        f"--web.external-url={url}",
    ]
    return supervisor.start("prometheus", argv, ready=http_ok(f"{url}/-/ready"))
