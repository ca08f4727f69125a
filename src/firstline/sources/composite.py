"""Assembles the configured backends into the one EvidenceSource the graph talks to."""

from __future__ import annotations

from dataclasses import dataclass

from firstline.domain.alert import Alert
from firstline.domain.evidence import (
    Evidence,
    EvidenceStatus,
    LogEvidence,
    MetricEvidence,
    Provenance,
    RelatedAlertsEvidence,
)
from firstline.domain.query import MetricQuery, QueryScope
from firstline.sources.base import AlertBackend, ClusterBackend, LogBackend, MetricBackend


def _unconfigured(what: str) -> str:
    return f"no {what} backend is configured"


@dataclass
class CompositeSource:
    metrics: MetricBackend | None = None
    log_backend: LogBackend | None = None
    cluster: ClusterBackend | None = None
    alerts: AlertBackend | None = None
    name: str = "live"

    async def metric(self, query: MetricQuery, scope: QueryScope) -> MetricEvidence:
        if self.metrics is None:
            return MetricEvidence(
                id=f"metric:{query.name}",
                name=query.name,
                provenance=Provenance(source="none", query=query.promql),
                status=EvidenceStatus.NO_DATA,
                reason=_unconfigured("metrics"),
            )
        return await self.metrics.metric(query, scope)

    async def logs(self, scope: QueryScope) -> LogEvidence:
        if self.log_backend is None:
            return LogEvidence(
                id="logs",
                provenance=Provenance(source="none", query="logs"),
                status=EvidenceStatus.NO_DATA,
                reason=_unconfigured("log"),
            )
        return await self.log_backend.logs(scope)

    async def cluster_state(self, scope: QueryScope) -> list[Evidence]:
        return await self.cluster.cluster_state(scope) if self.cluster else []

    async def related_alerts(self, scope: QueryScope) -> RelatedAlertsEvidence:
        if self.alerts is None:
            return RelatedAlertsEvidence(
                id="related_alerts",
                provenance=Provenance(source="none", query="alerts"),
                status=EvidenceStatus.NO_DATA,
                reason=_unconfigured("alert"),
            )
        return await self.alerts.related_alerts(scope)

    async def alert_firing(self, alert: Alert) -> bool | None:
        """The alert's own rule, re-evaluated, is the most exact answer; Alertmanager's view
        (which lags by its resolve timeout) is the fallback."""
        if self.metrics is not None:
            holds = await self.metrics.alert_condition_holds(alert)
            if holds is not None:
                return holds
        if self.alerts is not None:
            return await self.alerts.alert_firing(alert)
        return None
