"""triage: severity, and which known patterns could explain this alert."""

from __future__ import annotations

from firstline.domain.incident import IncidentStatus
from firstline.graph.deps import GraphDeps
from firstline.graph.recording import Update
from firstline.graph.state import IncidentState
from firstline.policy.severity import triage_severity


async def triage_alert(state: IncidentState, deps: GraphDeps) -> Update:
    alert = state.alert
    candidates = deps.registry.candidates(alert)
    specific = [p for p in candidates if not p.universal and p.applies_to(alert)]
    severity, why = triage_severity(alert, specific[0].default_severity if specific else None)
    known = ", ".join(p.id for p in specific) or "none by name; every pattern will be tried"
    return {
        "status": IncidentStatus.INVESTIGATING,
        "severity": severity,
        "severity_reason": why,
        "candidates": [p.id for p in candidates],
        "notes": [
            (f"alert {alert.name} received, severity {severity.value}", why),
            ("candidate patterns", known),
        ],
    }
