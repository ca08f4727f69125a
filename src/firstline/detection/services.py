"""`rank_services`: the localisation ranking (ranking.py) for investigations, in domain terms.

An investigation holds metric evidence per service (points as `MetricPoint`s or `(datetime,
value)` pairs). `rank_services` ranks the services by how far their own metrics moved from
`at` on, names the deciding metric and lists every moved metric with when it moved first, so a
report can say "payments: cpu rose from 0.21 to 0.93 from 14:02 (31 spreads), before frontend's
latency (14:03)". `services_from_evidence` groups `MetricEvidence` by the service label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from firstline.detection.ranking import MovedMetric, edges_from_names, rank
from firstline.domain.evidence import EvidenceStatus, MetricEvidence, MetricPoint

Point = tuple[datetime, float] | MetricPoint
SERVICE_LABELS = ("service", "component", "app", "job")


@dataclass(frozen=True)
class MovedSignal:
    metric: str
    family: str  # cpu, memory, latency, errors, other (own); callee, traffic, node (not own)
    z: float  # signed, in robust spreads of the hour before
    first_moved: datetime
    baseline: float
    value: float

    @property
    def direction(self) -> str:
        return "rose" if self.z > 0 else "fell"

    def sentence(self) -> str:
        return (
            f"{self.metric} {self.direction} from ~{self.baseline:.3g} to ~{self.value:.3g}"
            f" from {self.first_moved:%H:%M} ({abs(self.z):.0f} spreads)"
        )


@dataclass(frozen=True)
class ServiceRank:
    rank: int  # 1 = the most likely origin
    service: str
    score: float  # |z| of the deciding metric; 0 when none of its own metrics moved
    deciding: MovedSignal | None
    moved: tuple[MovedSignal, ...]  # every metric past the line, largest first

    def sentence(self) -> str:
        if self.deciding is None:
            return f"{self.service}: none of its own metrics moved"
        return f"{self.service}: {self.deciding.sentence()}"


def _signal(m: MovedMetric) -> MovedSignal:
    moment = datetime.fromtimestamp(m.first_moved, tz=UTC)
    return MovedSignal(m.metric, m.family, round(m.z, 2), moment, m.baseline, m.value)


def _arrays(points: Sequence[Point]) -> tuple[np.ndarray, np.ndarray]:
    pairs = [(p.ts, p.value) if isinstance(p, MetricPoint) else p for p in points]
    pairs.sort(key=lambda pair: pair[0])
    stamps = np.array([ts.timestamp() for ts, _ in pairs], dtype=np.float64)
    values = np.array([float(v) for _, v in pairs], dtype=np.float64)
    return stamps, values


def rank_services(
    series_by_service: Mapping[str, Mapping[str, Sequence[Point]]],
    at: datetime,
    call_edges: Iterable[tuple[str, str]] = (),
) -> list[ServiceRank]:
    """Services ranked as the origin of an incident that began at `at` (points before it are
    the history, the hour before is plenty). `call_edges`: (caller, callee) pairs where known;
    inbound edge metrics named `...from=<caller>...` add their own."""
    services = {
        name: {metric: _arrays(points) for metric, points in metrics.items() if points}
        for name, metrics in series_by_service.items()
    }
    edges = set(call_edges) | edges_from_names({n: list(m) for n, m in services.items()})
    ranked = rank(services, at.timestamp(), edges)
    return [
        ServiceRank(
            rank=i + 1,
            service=r.service,
            score=r.score,
            deciding=_signal(r.deciding) if r.deciding else None,
            moved=tuple(_signal(m) for m in r.moved),
        )
        for i, r in enumerate(ranked)
    ]


def services_from_evidence(
    metrics: Iterable[MetricEvidence], labels: Sequence[str] = SERVICE_LABELS
) -> dict[str, dict[str, list[MetricPoint]]]:
    """Metric evidence grouped by the first of `labels` it carries (evidence without one, or
    whose query failed, is left out); several series of one metric for a service (pods) keep their label values in
    the metric name so none overwrites another."""
    out: dict[str, dict[str, list[MetricPoint]]] = {}
    for item in metrics:
        service = next((item.labels[k] for k in labels if item.labels.get(k)), None)
        if service is None or not item.points or item.status is not EvidenceStatus.OK:
            continue
        per = out.setdefault(service, {})
        name = item.name if item.name not in per else f"{item.name}{sorted(item.labels.items())}"
        per[name] = list(item.points)
    return out
