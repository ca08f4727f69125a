"""EvidenceSource over a scenario bundle's world."""

from __future__ import annotations

from firstline.domain.alert import Alert
from firstline.domain.evidence import (
    DeploymentEvidence,
    EventEvidence,
    Evidence,
    EvidenceStatus,
    LogEvidence,
    MetricEvidence,
    NodeEvidence,
    PodEvidence,
    Provenance,
    RelatedAlertsEvidence,
)
from firstline.domain.query import MetricQuery, QueryScope
from firstline.scenarios.world import ReplayWorld
from firstline.sources.promql import render_template

SOURCE = "replay"


class ReplaySource:
    name = SOURCE

    def __init__(self, world: ReplayWorld) -> None:
        self.world = world

    def _provenance(self, query: str, scope: QueryScope) -> Provenance:
        return Provenance(source=SOURCE, query=query, start=scope.start, end=scope.end)

    async def metric(self, query: MetricQuery, scope: QueryScope) -> MetricEvidence:
        promql = render_template(query.promql, scope.placeholders())
        provenance = self._provenance(promql, scope)
        series = self.world.state.metrics.get(query.name)
        ref = f"metric:{query.name}"
        if series is None:
            return MetricEvidence(
                id=ref,
                name=query.name,
                provenance=provenance,
                status=EvidenceStatus.NO_DATA,
                reason="the query returned no series",
            )
        points = [p for p in series.points if scope.start <= p.ts <= scope.end]
        return MetricEvidence(
            id=ref,
            name=query.name,
            unit=series.unit or query.unit,
            labels=series.labels,
            provenance=provenance,
            points=points,
            status=EvidenceStatus.OK if points else EvidenceStatus.NO_DATA,
            reason=None if points else "no points inside the incident window",
        )

    async def logs(self, scope: QueryScope) -> LogEvidence:
        selector = render_template('{namespace="$namespace"}', scope.placeholders())
        entries = [e for e in self.world.state.logs if scope.start <= e.ts <= scope.end]
        return LogEvidence(
            id="logs",
            provenance=self._provenance(selector, scope),
            entries=entries,
            status=EvidenceStatus.OK if entries else EvidenceStatus.NO_DATA,
            reason=None if entries else "no log lines in the incident window",
        )

    async def cluster_state(self, scope: QueryScope) -> list[Evidence]:
        ns = scope.namespace or "all namespaces"
        state = self.world.state
        return [
            DeploymentEvidence(
                id="deployments",
                provenance=self._provenance(f"list deployments+replicasets in {ns}", scope),
                deployments=state.deployments,
            ),
            PodEvidence(
                id="pods", provenance=self._provenance(f"list pods in {ns}", scope), pods=state.pods
            ),
            EventEvidence(
                id="events",
                provenance=self._provenance(f"list events in {ns}", scope),
                events=[e for e in state.events if e.last_seen >= scope.start],
            ),
            NodeEvidence(
                id="nodes", provenance=self._provenance("list nodes", scope), nodes=state.nodes
            ),
            *state.databases,
        ]

    async def related_alerts(self, scope: QueryScope) -> RelatedAlertsEvidence:
        return RelatedAlertsEvidence(
            id="related_alerts",
            provenance=self._provenance("alertmanager: firing alerts sharing labels", scope),
            alerts=self.world.state.related,
            flap_count=self.world.state.flap_count,
        )

    async def alert_firing(self, alert: Alert) -> bool | None:
        return self.world.state.alert_firing
