"""The three ways a run ends: resolve (verified fix), escalate (a person takes over) and
conclude (recommendation only, or no real incident)."""

from __future__ import annotations

import structlog

from firstline.domain.decision import Outcome
from firstline.domain.incident import IncidentStatus
from firstline.graph.context import GraphContext
from firstline.graph.notifying import notify_all
from firstline.graph.recording import Update
from firstline.graph.report import escalation_reason, outcome_notification
from firstline.graph.state import IncidentState

log = structlog.get_logger(__name__)


async def _finish(
    state: IncidentState,
    ctx: GraphContext,
    status: IncidentStatus,
    conclusion: str,
    kind: str,
    event: str,
) -> Update:
    final = state.model_copy(update={"status": status, "conclusion": conclusion})
    notes = await notify_all(ctx, outcome_notification(final, kind))
    return {"status": status, "conclusion": conclusion, "notes": [(event, conclusion), *notes]}


async def resolve_incident(state: IncidentState, ctx: GraphContext) -> Update:
    conclusion = f"resolved after {state.attempt} remediation round(s); verification passed"
    return await _finish(
        state, ctx, IncidentStatus.RESOLVED, conclusion, "resolved", "incident resolved"
    )


async def escalate_incident(state: IncidentState, ctx: GraphContext) -> Update:
    reason = escalation_reason(state)
    log.info("escalated", reason=reason, severity=state.severity.value if state.severity else None)
    conclusion = f"escalated: {reason}"
    return await _finish(
        state, ctx, IncidentStatus.ESCALATED, conclusion, "escalation", "escalated to a person"
    )


async def conclude_incident(state: IncidentState, ctx: GraphContext) -> Update:
    decision = state.decision
    reason = decision.reason if decision else ""
    if decision is not None and decision.outcome is Outcome.DISMISS:
        return await _finish(
            state, ctx, IncidentStatus.DISMISSED, f"dismissed: {reason}", "dismissed", "dismissed"
        )
    return await _finish(
        state,
        ctx,
        IncidentStatus.RECOMMENDED,
        f"recommended only: {reason}",
        "recommendation",
        "recommended",
    )
