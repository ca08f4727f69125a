"""A source for when nothing is configured: every answer is no_data, with the reason."""

from __future__ import annotations

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

_REASON = "no evidence source is configured (pass --scenario, or configure sources)"


class NoEvidenceSource:
    name = "none"

    def _prov(self, query: str) -> Provenance:
        return Provenance(source=self.name, query=query)

    async def metric(self, query: MetricQuery, scope: QueryScope) -> MetricEvidence:
        return MetricEvidence(
            id=f"metric:{query.name}",
            name=query.name,
            provenance=self._prov(query.promql),
            status=EvidenceStatus.NO_DATA,
            reason=_REASON,
        )

    async def logs(self, scope: QueryScope) -> LogEvidence:
        return LogEvidence(
            id="logs", provenance=self._prov("logs"), status=EvidenceStatus.NO_DATA, reason=_REASON
        )

    async def cluster_state(self, scope: QueryScope) -> list[Evidence]:
        return []

    async def related_alerts(self, scope: QueryScope) -> RelatedAlertsEvidence:
        return RelatedAlertsEvidence(
            id="related_alerts",
            provenance=self._prov("alerts"),
            status=EvidenceStatus.NO_DATA,
            reason=_REASON,
        )

    async def alert_firing(self, alert: Alert) -> bool | None:
        return None
