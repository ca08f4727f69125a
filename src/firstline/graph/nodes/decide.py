"""decide: the deterministic decision engine, then the policy's guard rails on its actions.

A decision that would act is checked against the guard rails (policy/actions.py) here, so a
refused action escalates with the rule that refused it instead of waiting for approval.
Every decision and refusal goes to the audit log.
"""

from __future__ import annotations

from firstline.domain.alert import Severity
from firstline.domain.decision import Outcome
from firstline.domain.hypothesis import Analysis
from firstline.domain.incident import IncidentStatus
from firstline.graph.deps import GraphDeps
from firstline.graph.execution import audit_log, guard_context
from firstline.graph.recording import Update
from firstline.graph.state import IncidentState
from firstline.policy.actions import guard_decision
from firstline.policy.decision import DecisionInput, decide
from firstline.store.audit import AuditKind


async def decide_outcome(state: IncidentState, deps: GraphDeps) -> Update:
    decision = decide(
        DecisionInput(
            alert=state.alert,
            severity=state.severity or Severity.MEDIUM,
            analysis=state.analysis or Analysis(reasoner="none"),
        ),
        deps.policy,
    )
    decision, refused = guard_decision(decision, guard_context(state, deps), deps.policy)
    audit = audit_log(deps)
    for action, refusal in refused:
        audit.append(
            state.incident_id,
            AuditKind.REFUSAL,
            {
                "at": "decision",
                "action": action.model_dump(mode="json"),
                "rule": refusal.rule,
                "reason": refusal.reason,
            },
            at=deps.clock(),
        )
    audit.append(
        state.incident_id,
        AuditKind.DECISION,
        {
            "outcome": decision.outcome.value,
            "rule": decision.rule,
            "reason": decision.reason,
            "would_have": decision.would_have.value if decision.would_have else None,
            "actions": [a.model_dump(mode="json") for a in decision.actions],
            "severity": (state.severity or Severity.MEDIUM).value,
        },
        at=deps.clock(),
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
