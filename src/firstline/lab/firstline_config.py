"""firstline's own settings and policy for the lab, written once at `lab up`: every source
points at the lab's real services, every executor is enabled for exactly the lab's targets,
and the policy is `auto` with runbooks for the fixes the shop's operators have proven
(docs/lab.md lists them). The tokens are random per lab and kept in a 0600 file."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

import yaml

from firstline.lab.monitoring.postgres import role_dsn
from firstline.lab.topology import HOST, Topology

OPERATOR = "lab-operator"
SETTINGS_FILE = "firstline.yaml"
POLICY_FILE = "policy.yaml"
SECRETS_FILE = "secrets.json"


def lab_secrets(topology: Topology) -> dict[str, str]:
    """The lab's webhook and API tokens: made on first use, then read back."""
    path = topology.config_dir / SECRETS_FILE
    if path.exists():
        return dict(json.loads(path.read_text()))
    values = {"webhook_token": secrets.token_urlsafe(24), "api_token": secrets.token_urlsafe(24)}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(values, out)
    return values


def _runbooks(topology: Topology) -> list[dict[str, Any]]:
    """The shop operators' own fixes, bound to firstline's diagnoses."""
    return [
        {
            "id": "lab-clean-volume",
            "when": {"pattern": "disk_pressure"},
            "action": "custom_script",
            "parameters": {"script": "clean-lab-volume"},
            "risk": "low",
        },
        {
            "id": "lab-rotate-storefront-cert",
            "when": {"pattern": "certificate_expiry"},
            "action": "custom_script",
            "parameters": {"script": "rotate-storefront-cert"},
            "risk": "medium",
            "replace": True,  # no issuer serves this endpoint: the script is the way
        },
        {
            "id": "lab-purge-page-cache",
            "when": {"pattern": "cache_memory_full"},
            "action": "clear_cache",
            "parameters": {"pattern": "cache:*"},
            "risk": "medium",
        },
        {
            # the shop's transactions never sit idle for seconds: its operators end any
            # session idle in one for 15 s (the pattern's own threshold is a cautious 5 min)
            "id": "lab-end-leaked-sessions",
            "when": {"pattern": "connection_pool_exhaustion", "alert": ["service=postgres"]},
            "action": "terminate_db_connections",
            "parameters": {"idle_in_transaction_seconds": 15},
            "risk": "medium",
            "replace": True,
        },
        {
            "id": "lab-report-worker-memory",
            "when": {"pattern": "oom_kill_loop", "target": ["name=report-worker"]},
            "action": "raise_resource_limit",
            "parameters": {"resource": "memory", "limit": "256Mi"},
            "risk": "medium",
            "replace": True,
        },
    ]


def policy(topology: Topology) -> dict[str, Any]:
    return {
        "mode": "auto",
        "confidence_threshold": 0.6,
        "approval_timeout_seconds": 900,
        "approvers": [{"principals": [OPERATOR]}],
        "runbooks": _runbooks(topology),
    }


def settings(topology: Topology) -> dict[str, Any]:
    tokens = lab_secrets(topology)
    kubeconfig = str(topology.config_dir / "kubeconfig")
    return {
        "policy_file": str(topology.config_dir / POLICY_FILE),
        "store": {"data_dir": str(topology.data_dir / "firstline")},
        "serve": {
            "host": HOST,
            "port": topology.ports.firstline,
            "auth": {"bearer_tokens": [tokens["webhook_token"]]},
            "api_principals": {OPERATOR: tokens["api_token"]},
            "workers": 4,
        },
        "graph": {
            "verify_wait_seconds": 5,
            "verify_timeout_seconds": 300,
            "verify_poll_seconds": 5,
            "evidence_window_minutes": 15,
        },
        "sources": {
            "prometheus": {"url": topology.url("prometheus"), "min_step_seconds": 5},
            "alertmanager": {"url": topology.url("alertmanager")},
            "loki": {"url": topology.url("loki")},
            "kubernetes": {"enabled": True, "kubeconfig": kubeconfig},
        },
        "actions": {
            "kubernetes": {
                "enabled": True,
                "kubeconfig": kubeconfig,
                "namespaces": [topology.namespace],
                "memory_ceiling": "1Gi",
            },
            "redis": {
                "enabled": True,
                "targets": {"redis": f"redis://{HOST}:{topology.ports.redis}/0"},
            },
            "postgres": {
                "enabled": True,
                "targets": {"postgres": role_dsn(topology, "firstline")},
                "min_idle_in_transaction_seconds": 10,
            },
            "scripts": {"enabled": True, "directory": str(topology.runbooks_dir)},
        },
        "log": {"format": "json"},
    }


def write(topology: Topology) -> Path:
    """Both files into the lab's config dir; the settings file is what `serve -c` reads."""
    topology.config_dir.mkdir(parents=True, exist_ok=True)
    (topology.config_dir / POLICY_FILE).write_text(yaml.safe_dump(policy(topology)))
    path = topology.config_dir / SETTINGS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the tokens
    with os.fdopen(fd, "w") as out:
        yaml.safe_dump(settings(topology), out)
    return path
