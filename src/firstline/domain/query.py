"""What the graph asks evidence sources for. Patterns declare these; sources answer them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from firstline.domain.alert import Alert


class MetricQuery(BaseModel):
    """A named PromQL template; `$namespace`, `$service`, `$pod`... are filled from the alert."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Stable name used by patterns and scenario bundles.")
    promql: str
    unit: str = ""
    description: str = ""


class QueryScope(BaseModel):
    """The part of the world an incident is about, derived once from the alert."""

    model_config = ConfigDict(frozen=True)

    alert: Alert
    namespace: str | None
    service: str | None
    start: datetime
    end: datetime

    def placeholders(self) -> dict[str, str]:
        labels = self.alert.labels
        return {
            "namespace": self.namespace or "",
            "service": self.service or "",
            "pod": labels.get("pod", ""),
            "instance": labels.get("instance", ""),
            "node": labels.get("node", ""),
            "job": labels.get("job", ""),
            "mountpoint": labels.get("mountpoint", ""),
        }
