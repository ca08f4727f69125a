"""remediate: carry out the decided actions, each at most once."""

from __future__ import annotations

from firstline.domain.incident import IncidentStatus
from firstline.graph.deps import GraphDeps
from firstline.graph.execution import execute_once
from firstline.graph.recording import Update
from firstline.graph.state import IncidentState


async def remediate(state: IncidentState, deps: GraphDeps) -> Update:
    assert state.decision is not None, "remediate follows decide"
    attempt = state.attempt + 1
    deps.store.update(state.incident_id, status=IncidentStatus.REMEDIATING)
    results = [
        await execute_once(state.incident_id, action, attempt, deps)
        for action in state.decision.actions
    ]
    return {
        "attempt": attempt,
        "action_results": results,
        "status": IncidentStatus.VERIFYING,
        "notes": [(f"{r.action.describe()}: {r.status.value}", r.detail) for r in results],
    }
