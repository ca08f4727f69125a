"""decide: the deterministic decision engine, nothing else."""

from __future__ import annotations

from firstline.domain.alert import Severity
from firstline.domain.decision import Outcome
from firstline.domain.hypothesis import Analysis
from firstline.domain.incident import IncidentStatus
from firstline.graph.deps import GraphDeps
from firstline.graph.recording import Update
from firstline.graph.state import IncidentState
from firstline.policy.decision import DecisionInput, decide


async def decide_outcome(state: IncidentState, deps: GraphDeps) -> Update:
    decision = decide(
        DecisionInput(
            alert=state.alert,
            severity=state.severity or Severity.MEDIUM,
            analysis=state.analysis or Analysis(reasoner="none"),
        ),
        deps.policy,
    )
    actions = ", ".join(a.describe() for a in decision.actions) or "no action"
    update: Update = {}
    if decision.outcome is Outcome.REQUEST_APPROVAL:
        # set here, not in request_approval: that node pauses before it can return
        update["status"] = IncidentStatus.AWAITING_APPROVAL
    return update | {
        "decision": decision,
        "decisions": [decision],
        "notes": [
            (
                f"decision: {decision.outcome.value} (rule {decision.rule})",
                f"{decision.reason}; actions: {actions}",
            )
        ],
    }
