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
    source_timeout: float = 15.0,
    budget_seconds: float = 30.0,
) -> EvidenceSet:
    """Every call runs concurrently, each bounded by `source_timeout`; whatever has not
    answered when the overall budget runs out is cancelled and reported as such."""
    name = source.name
    planned: list[tuple[str, str, Awaitable[Evidence | list[Evidence]]]] = [
        (f"metric:{q.name}", q.promql, source.metric(q, scope)) for q in queries
    ]
    planned += [
        ("logs", "logs", source.logs(scope)),
        ("cluster", "cluster state", source.cluster_state(scope)),
        ("related_alerts", "alerts", source.related_alerts(scope)),
    ]
    tasks = [
        asyncio.ensure_future(_guard(ref, what, name, call, source_timeout))
        for ref, what, call in planned
    ]
    done, pending = await asyncio.wait(tasks, timeout=budget_seconds)
    for task in pending:
        task.cancel()
    items: list[Evidence] = []
    for (ref, what, _call), task in zip(planned, tasks, strict=True):
        if task in done:
            group = task.result()
        else:
            budget = TimeoutError(f"cancelled: the {budget_seconds:.0f}s gathering budget ran out")
            group = [_failed(ref, what, name, budget)]
        for item in group:
            items.append(annotate(item, detector) if isinstance(item, MetricEvidence) else item)
    return EvidenceSet(items=items)


async def gather_metrics(
    source: EvidenceSource,
    scope: QueryScope,
    queries: Sequence[MetricQuery],
    detector: Detector,
    source_timeout: float = 15.0,
) -> list[Evidence]:
    """Only metric queries, concurrently, each bounded; failures become error evidence."""
    calls = [
        _guard(f"metric:{q.name}", q.promql, source.name, source.metric(q, scope), source_timeout)
        for q in queries
    ]
    groups = await asyncio.gather(*calls)
    return [
        annotate(item, detector) if isinstance(item, MetricEvidence) else item
        for group in groups
        for item in group
    ]
