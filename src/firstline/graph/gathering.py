"""Evidence gathering: every query runs concurrently; a failure becomes evidence with status
error and a reason, never an exception into the graph."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from datetime import datetime, timedelta

from firstline.detection.detectors import Detector
from firstline.domain.alert import Alert
from firstline.domain.evidence import (
    Evidence,
    EvidenceSet,
    EvidenceStatus,
    LogEvidence,
    MetricEvidence,
    Provenance,
)
from firstline.domain.query import MetricQuery, QueryScope
from firstline.sources.base import EvidenceSource


def scope_for(alert: Alert, now: datetime, window: timedelta) -> QueryScope:
    return QueryScope(
        alert=alert,
        namespace=alert.namespace,
        service=alert.service,
        start=now - window,
        end=now,
    )


def annotate(metric: MetricEvidence, detector: Detector) -> MetricEvidence:
    if metric.status is not EvidenceStatus.OK or not metric.points:
        return metric
    finding = detector.assess(metric.points, metric.unit)
    return metric.model_copy(update={"findings": [finding] if finding else []})


def _failed(ref: str, what: str, source: str, exc: BaseException) -> LogEvidence:
    return LogEvidence(
        id=ref,
        provenance=Provenance(source=source, query=what),
        status=EvidenceStatus.ERROR,
        reason=f"{type(exc).__name__}: {exc}",
    )


async def _guard(
    ref: str, what: str, source: str, call: Awaitable[Evidence | list[Evidence]], budget: float
) -> list[Evidence]:
    try:
        result = await asyncio.wait_for(call, budget)
    except TimeoutError:
        return [_failed(ref, what, source, TimeoutError(f"no answer within {budget:.0f}s"))]
    except Exception as exc:  # a backend may fail in any way; it must not stop the incident
        return [_failed(ref, what, source, exc)]
    return result if isinstance(result, list) else [result]


async def gather(
    source: EvidenceSource,
    scope: QueryScope,
    queries: Sequence[MetricQuery],
    detector: Detector,
    budget_seconds: float = 20.0,
) -> EvidenceSet:
    name = source.name
    calls = [
        _guard(f"metric:{q.name}", q.promql, name, source.metric(q, scope), budget_seconds)
        for q in queries
    ]
    calls.append(_guard("logs", "logs", name, source.logs(scope), budget_seconds))
    calls.append(
        _guard("cluster", "cluster state", name, source.cluster_state(scope), budget_seconds)
    )
    calls.append(
        _guard("related_alerts", "alerts", name, source.related_alerts(scope), budget_seconds)
    )
    results = await asyncio.gather(*calls)
    items: list[Evidence] = []
    for group in results:
        for item in group:
            items.append(annotate(item, detector) if isinstance(item, MetricEvidence) else item)
    return EvidenceSet(items=items)
