"""gather_evidence: query every source concurrently for what the candidate patterns need."""

from __future__ import annotations

from datetime import timedelta

from firstline.domain.evidence import (
    Evidence,
    EvidenceSet,
    EvidenceStatus,
    MetricEvidence,
    Provenance,
    RelatedAlertsEvidence,
)
from firstline.domain.query import QueryScope
from firstline.graph.context import GraphContext
from firstline.graph.gathering import gather, gather_metrics, scope_for
from firstline.graph.recording import Update
from firstline.graph.services import labelled, related_services, service_queries, service_scope
from firstline.graph.state import IncidentState


async def gather_evidence(state: IncidentState, ctx: GraphContext) -> Update:
    window = timedelta(minutes=ctx.settings.evidence_window_minutes)
    scope = scope_for(state.alert, ctx.evidence_clock(), window)
    queries = ctx.registry.metric_queries(state.candidates)
    evidence = await gather(
        ctx.source,
        scope,
        queries,
        ctx.detector,
        source_timeout=ctx.source_timeout_seconds,
        budget_seconds=ctx.gather_budget_seconds,
    )
    evidence = _with_grouped_alerts(evidence, state, ctx)
    evidence = await _with_related_services(evidence, scope, ctx)
    ok = sum(1 for i in evidence.items if i.status is EvidenceStatus.OK)
    problems = [
        f"{i.id}: {i.status.value} ({i.reason})" for i in evidence.items if i.status != "ok"
    ]
    anomalies = [
        f"{m.name} {m.findings[0].sentence}"
        for m in (evidence.metric(q.name) for q in queries)
        if m is not None and m.anomalous
    ]
    notes = [(f"gathered {len(evidence.items)} evidence items ({ok} ok)", "; ".join(problems))]
    notes.extend(("anomaly", a) for a in anomalies)
    return {"evidence": evidence, "notes": notes}


def _with_grouped_alerts(
    evidence: EvidenceSet, state: IncidentState, ctx: GraphContext
) -> EvidenceSet:
    """Alerts intake grouped into this incident are related evidence, not new incidents:
    merged into the backend's related alerts when there are some, else their own item."""
    if ctx.grouped_alerts is None:
        return evidence
    existing = evidence.related()
    known = {
        state.alert.fingerprint,
        *(a.fingerprint for a in (existing.alerts if existing else [])),
    }
    others = [a for a in ctx.grouped_alerts(state.incident_id) if a.fingerprint not in known]
    if not others:
        return evidence
    if existing is not None:
        merged = existing.model_copy(update={"alerts": [*existing.alerts, *others]})
        return EvidenceSet(items=[merged if i is existing else i for i in evidence.items])
    grouped = RelatedAlertsEvidence(
        id="grouped_alerts",
        provenance=Provenance(source="firstline-intake", query="alerts grouped into the incident"),
        alerts=others,
    )
    return EvidenceSet(items=[*evidence.items, grouped])


async def _with_related_services(
    evidence: EvidenceSet, scope: QueryScope, ctx: GraphContext
) -> EvidenceSet:
    """The other services of the incident, asked the same health questions, so the
    reasoner can rank where the trouble started."""
    extra: list[Evidence] = []
    for service in related_services(evidence, scope):
        found = await gather_metrics(
            ctx.source,
            service_scope(scope, service),
            service_queries(service),
            ctx.detector,
            source_timeout=ctx.source_timeout_seconds,
        )
        extra.extend(labelled(i, service) if isinstance(i, MetricEvidence) else i for i in found)
    return EvidenceSet(items=[*evidence.items, *extra]) if extra else evidence
