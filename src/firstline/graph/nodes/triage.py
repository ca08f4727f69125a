"""triage: severity, what the alert is known to mean, and the order patterns are tried in.

Every pattern is a candidate (evidence decides); the alert catalog and the patterns' own
alert names only order them and supply the default severity."""

from __future__ import annotations

from firstline.domain.incident import IncidentStatus
from firstline.graph.context import GraphContext
from firstline.graph.recording import Update
from firstline.graph.state import IncidentState
from firstline.knowledge.catalog import prior_for
from firstline.policy.severity import triage_severity


async def triage_alert(state: IncidentState, ctx: GraphContext) -> Update:
    alert = state.alert
    prior = prior_for(alert)
    ranked = sorted(prior.suggests, key=lambda pid: -prior.suggests[pid].rank)
    specific = ctx.registry.suggested(alert, ranked)
    candidates = ctx.registry.candidates(alert, ranked)
    severity, why = triage_severity(alert, specific[0].default_severity if specific else None)
    known = ", ".join(p.id for p in specific) or "none; evidence alone will decide"
    meaning = f"{prior.meaning} (catalog: {prior.entry})" if prior.known else "not in the catalog"
    return {
        "status": IncidentStatus.INVESTIGATING,
        "severity": severity,
        "severity_reason": why,
        "candidates": [p.id for p in candidates],
        "notes": [
            (f"alert {alert.name} received, severity {severity.value}", why),
            ("what the alert means", meaning),
            ("patterns the alert points at", known),
        ],
    }
