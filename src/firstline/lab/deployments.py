"""The shop as Kubernetes Deployments, applied to the lab's API like any manifest: one pod
each, the image tag naming the release, configuration in env, memory limits that the lab
controller enforces on the real processes."""

from __future__ import annotations

from typing import Any

from firstline.lab.topology import HOST, Topology

RELEASES = {
    "storefront": "3.2.0",
    "checkout": "2.7.1",
    "orders": "1.9.4",
    "catalog": "1.4.2",
    "order-events": "1.1.0",
    "report-worker": "0.8.3",
}
MEMORY_LIMITS = {"report-worker": "128Mi"}
DEFAULT_MEMORY_LIMIT = "256Mi"
CONFIG = {
    "order-events": {"ORDER_EVENTS_BATCH_SIZE": "50"},
}


def _env(topology: Topology, service: str) -> list[dict[str, str]]:
    ports = topology.ports
    pg = f"host={HOST} port={ports.postgres} dbname=shop user=shop"
    common = {
        "PORT": str(getattr(ports, service.replace("-", "_"))),
        "LAB_LOKI_URL": topology.url("loki"),
        "LAB_PG_DSN": pg,
        "LAB_REDIS_URL": f"redis://{HOST}:{ports.redis}/0",
        "LAB_CATALOG_URL": topology.url("catalog"),
        "LAB_CHECKOUT_URL": topology.url("checkout"),
        "LAB_ORDERS_URL": topology.url("orders"),
        "LAB_PAYMENTS_URL": topology.url("payments"),
        "LAB_CERTS_DIR": str(topology.certs_dir),
        "LAB_TLS_PORT": str(ports.storefront_tls),
        "LAB_REPORTS_SPOOL": str(topology.data_dir / "reports"),
        **CONFIG.get(service, {}),
    }
    return [{"name": k, "value": v} for k, v in common.items()]


def deployment(topology: Topology, service: str) -> dict[str, Any]:
    labels = {"app": service}
    container = {
        "name": service,
        "image": f"lab/{service}:{RELEASES[service]}",
        "env": _env(topology, service),
        "ports": [{"containerPort": getattr(topology.ports, service.replace("-", "_"))}],
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"memory": MEMORY_LIMITS.get(service, DEFAULT_MEMORY_LIMIT)},
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": service,
            "namespace": topology.namespace,
            "labels": labels,
            "annotations": {"kubernetes.io/change-cause": f"release {RELEASES[service]}"},
        },
        "spec": {
            "replicas": 1,
            # one port per Deployment: the old pod stops before the new one binds it
            "strategy": {"type": "Recreate"},
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def shop(topology: Topology) -> list[dict[str, Any]]:
    return [deployment(topology, service) for service in RELEASES]
