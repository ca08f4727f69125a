"""Alerts as firstline sees them, whatever vendor sent them."""

from __future__ import annotations

import hashlib
import json
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
        """The component the alert names, by the label conventions people use most."""
        for key in ("service", "deployment", "app", "job", "container"):
            if value := self.labels.get(key):
                return value
        return None

    @property
    def declared_severity(self) -> str | None:
        return self.labels.get("severity")

    def text(self) -> str:
        """Everything a person wrote about the alert, for keyword checks."""
        parts = [self.name, *self.annotations.values()]
        return " ".join(parts)
