"""Alerts as firstline sees them, whatever vendor sent them."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Lower is more urgent; handy for sorting."""
        return list(Severity).index(self)


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


def fingerprint_labels(labels: dict[str, str]) -> str:
    """A stable hash of the sorted labels, used when the sender gives no fingerprint."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


_EXPORTERS = (
    "kube-state-metrics",
    "node-exporter",
    "blackbox",
    "cadvisor",
    "kubelet",
    "kube-prometheus-stack",
    "prometheus-operator",
)


_DEPLOYMENT_POD = re.compile(r"^(?P<name>[a-z0-9.-]+?)-[a-z0-9]{6,10}-[a-z0-9]{5}$")
_STATEFUL_POD = re.compile(r"^(?P<name>[a-z0-9.-]+?)-\d+$")


def workload_of_pod(pod: str) -> str | None:
    """'checkout-7d9f8c6b5-x2k9p' -> 'checkout' (Deployment), 'orders-db-0' -> 'orders-db'."""
    match = _DEPLOYMENT_POD.match(pod) or _STATEFUL_POD.match(pod)
    return match.group("name") if match else None


def _is_exporter(value: str) -> bool:
    lowered = value.lower()
    return any(name in lowered for name in _EXPORTERS)


class Alert(BaseModel):
    """One alert, normalised. `raw` keeps the vendor payload untouched for audit."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="Sender kind, e.g. 'alertmanager'.")
    name: str = Field(min_length=1, description="The alert name (Alertmanager's alertname).")
    status: AlertStatus = AlertStatus.FIRING
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime
    ends_at: datetime | None = None
    fingerprint: str
    generator_url: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict)

    @property
    def namespace(self) -> str | None:
        return self.labels.get("namespace")

    @property
    def service(self) -> str | None:
        """The component the alert is about, by the label conventions people use most.

        Alerts built on exporter metrics (kube-state-metrics, node-exporter, blackbox...)
        carry the *exporter's* Service and job as `service`/`job`; those name the messenger,
        not the workload, so they are skipped in favour of the workload labels."""
        for key in ("deployment", "statefulset", "daemonset", "service", "app", "job"):
            value = self.labels.get(key)
            if value and not _is_exporter(value):
                return value
        if owner := workload_of_pod(self.labels.get("pod", "")):
            return owner
        return self.labels.get("container") or None

    @property
    def declared_severity(self) -> str | None:
        return self.labels.get("severity")

    def text(self) -> str:
        """Everything a person wrote about the alert, for keyword checks."""
        parts = [self.name, *self.annotations.values()]
        return " ".join(parts)
