"""Evidence about the other services of an incident, for the localization ranking.

When an incident spans services (other alerts in the group or firing alongside it), the
same health queries are asked of each of them, so the reasoner can rank which service moved
first and most against its own history. Their evidence ids and names carry the service,
`metric:latency_p99@payments`, so they never stand in for the alerting service's own."""

from __future__ import annotations

from firstline.domain.evidence import EvidenceSet, MetricEvidence
from firstline.domain.query import MetricQuery, QueryScope
from firstline.domain.services import service_metric
from firstline.patterns import queries

HEALTH = (
    queries.ERROR_RATE,
    queries.LATENCY_P99,
    queries.REQUEST_RATE,
    queries.CPU_USAGE,
    queries.MEMORY_WORKING_SET,
)
MAX_SERVICES = 6


def related_services(evidence: EvidenceSet, scope: QueryScope) -> list[str]:
    """Services of the other alerts in the incident's namespace, nearest first."""
    related = evidence.related()
    found: list[str] = []
    for alert in related.alerts if related else []:
        service = alert.service
        same_place = scope.namespace is None or alert.namespace in (None, scope.namespace)
        if service and service != scope.service and same_place and service not in found:
            found.append(service)
    return found[:MAX_SERVICES]


def service_queries(service: str) -> list[MetricQuery]:
    return [q.model_copy(update={"name": service_metric(q.name, service)}) for q in HEALTH]


def service_scope(scope: QueryScope, service: str) -> QueryScope:
    return scope.model_copy(update={"service": service})


def labelled(item: MetricEvidence, service: str) -> MetricEvidence:
    """The service named in the labels too, where grouping by service looks."""
    return item.model_copy(update={"labels": {**item.labels, "service": service}})
