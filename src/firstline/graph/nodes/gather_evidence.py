"""gather_evidence: query every source concurrently for what the candidate patterns need."""

from __future__ import annotations

from datetime import timedelta

from firstline.domain.evidence import EvidenceStatus
from firstline.graph.deps import GraphDeps
from firstline.graph.gathering import gather, scope_for
from firstline.graph.recording import Update
from firstline.graph.state import IncidentState


async def gather_evidence(state: IncidentState, deps: GraphDeps) -> Update:
    window = timedelta(minutes=deps.settings.evidence_window_minutes)
    scope = scope_for(state.alert, deps.evidence_clock(), window)
    queries = deps.registry.metric_queries(state.candidates)
    evidence = await gather(
        deps.source,
        scope,
        queries,
        deps.detector,
        source_timeout=deps.source_timeout_seconds,
        budget_seconds=deps.gather_budget_seconds,
    )
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
