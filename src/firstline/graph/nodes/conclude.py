"""The three ways a run ends: resolve (verified fix), escalate (a person takes over) and
conclude (recommendation only, or no real incident)."""

from __future__ import annotations

from firstline.domain.decision import Outcome
from firstline.domain.incident import IncidentStatus
from firstline.graph.deps import GraphDeps
from firstline.graph.notifying import notify_all
from firstline.graph.recording import Update
from firstline.graph.report import escalation_reason, outcome_notification
from firstline.graph.state import IncidentState


async def resolve_incident(state: IncidentState, deps: GraphDeps) -> Update:
    conclusion = f"resolved after {state.attempt} remediation round(s); verification passed"
    final = state.model_copy(update={"status": IncidentStatus.RESOLVED, "conclusion": conclusion})
    notes = await notify_all(deps, outcome_notification(final, "resolved"))
    return {
        "status": IncidentStatus.RESOLVED,
        "conclusion": conclusion,
        "notes": [("incident resolved", conclusion), *notes],
    }


async def escalate_incident(state: IncidentState, deps: GraphDeps) -> Update:
    conclusion = f"escalated: {escalation_reason(state)}"
    final = state.model_copy(update={"status": IncidentStatus.ESCALATED, "conclusion": conclusion})
    notes = await notify_all(deps, outcome_notification(final, "escalation"))
    return {
        "status": IncidentStatus.ESCALATED,
        "conclusion": conclusion,
        "notes": [("escalated to a person", conclusion), *notes],
    }


async def conclude_incident(state: IncidentState, deps: GraphDeps) -> Update:
    decision = state.decision
    dismissed = decision is not None and decision.outcome is Outcome.DISMISS
    status = IncidentStatus.DISMISSED if dismissed else IncidentStatus.RECOMMENDED
    reason = decision.reason if decision else ""
    conclusion = ("dismissed: " if dismissed else "recommended only: ") + reason
    final = state.model_copy(update={"status": status, "conclusion": conclusion})
    notes = await notify_all(
        deps, outcome_notification(final, "dismissed" if dismissed else "recommendation")
    )
    return {
        "status": status,
        "conclusion": conclusion,
        "notes": [(status.value, conclusion), *notes],
    }
