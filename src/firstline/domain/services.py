"""Metric evidence of several services in one incident.

The same health queries asked of another service of the incident carry its name after an
`@` (`latency_p99@payments`), so they never stand in for the alerting service's own
metrics, and the localization ranking can group them by service."""

from __future__ import annotations

from firstline.domain.evidence import EvidenceSet, EvidenceStatus, MetricEvidence, MetricPoint

SEPARATOR = "@"


def service_metric(name: str, service: str) -> str:
    return f"{name}{SEPARATOR}{service}"


def split_name(name: str) -> tuple[str, str | None]:
    """'latency_p99@payments' -> ('latency_p99', 'payments'); a plain name has no service."""
    base, sep, service = name.partition(SEPARATOR)
    return (base, service) if sep else (name, None)


def by_service(
    evidence: EvidenceSet, own_service: str | None
) -> dict[str, dict[str, list[MetricPoint]]]:
    """Metric points grouped by service: the alerting service's own metrics under its name,
    the other services' under theirs."""
    out: dict[str, dict[str, list[MetricPoint]]] = {}
    for item in evidence.items:
        ok = isinstance(item, MetricEvidence) and item.status is EvidenceStatus.OK
        if not ok or not isinstance(item, MetricEvidence) or not item.points:
            continue
        base, service = split_name(item.name)
        owner = service or own_service
        if owner:
            out.setdefault(owner, {})[base] = list(item.points)
    return out
