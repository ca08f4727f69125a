"""The localization ranking inside an investigation: when the evidence holds metrics of
several services (the alerting one and those of the other alerts in the incident), rank
them by how far their own metrics moved from the incident's start, earliest mover first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from firstline.detection.services import Point, rank_services
from firstline.domain.alert import Alert
from firstline.domain.evidence import EvidenceSet
from firstline.domain.hypothesis import ServiceRanking
from firstline.domain.services import by_service

MOVED = 3


def _began(alert: Alert, evidence: EvidenceSet) -> datetime:
    related = evidence.related()
    starts = [alert.starts_at, *(a.starts_at for a in (related.alerts if related else []))]
    return min(starts)


def _edges(evidence: EvidenceSet, own: str, services: Sequence[str]) -> set[tuple[str, str]]:
    """The alerting service calls a service its logs name (a failing call names its host)."""
    logs = evidence.logs()
    if logs is None:
        return set()
    return {(own, s) for s in services if s != own and logs.count_matching(s) > 0}


def localize(alert: Alert, evidence: EvidenceSet, own: str | None) -> list[ServiceRanking]:
    grouped = by_service(evidence, own)
    if len(grouped) < 2:
        return []
    series: dict[str, dict[str, Sequence[Point]]] = {
        service: dict(metrics.items()) for service, metrics in grouped.items()
    }
    edges = _edges(evidence, own, list(series)) if own else set()
    ranked = rank_services(series, at=_began(alert, evidence), call_edges=edges)
    return [
        ServiceRanking(
            rank=r.rank,
            service=r.service,
            score=round(r.score, 2),
            deciding=r.deciding.sentence() if r.deciding else "",
            moved=[m.sentence() for m in sorted(r.moved, key=lambda m: m.first_moved)[:MOVED]],
        )
        for r in ranked
    ]
